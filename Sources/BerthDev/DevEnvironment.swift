import AWSCore
import Foundation
import Logging

/// What `berth server --dev` adds: a loud banner and, when moto is installed, a local AWS emulator
/// (moto for STS and IAM; ECS and CloudWatch Logs simulated by Berth's own fake control plane,
/// because moto's ECS never finishes a rollout) with a demo environment, account, cluster target
/// and project already registered, so that a first deployment works out of the box.
public struct DevEnvironment: Sendable {
    let moto: MotoServer?
    /// Where the simulated ECS and CloudWatch Logs answer.
    let ecsEndpoint: String?
    /// Where the banner and the demo's instructions go (the console, unbuffered).
    let announce: @Sendable (String) -> Void

    public static let banner = """
        ************************************************************************
        *  DEVELOPMENT SERVER — for trying Berth out, not for real use.        *
        *  Its data lives in a temporary directory and is deleted on exit.     *
        ************************************************************************
        """

    /// How long a demo rollout takes: long enough to watch, short enough to wait for.
    static let rolloutDuration = Duration.seconds(6)

    /// Environment variables that send the server's AWS calls to the emulators.
    public var environment: [String: String] {
        var values = moto?.environment.values ?? [:]
        if let ecsEndpoint {
            values["AWS_ENDPOINT_URL_ECS"] = ecsEndpoint
            values["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = ecsEndpoint
        }
        return values
    }

    /// Starts the emulators, runs `body` with them and stops them when it returns.
    public static func run(
        logger: Logger, announce: @escaping @Sendable (String) -> Void, _ body: (DevEnvironment) async throws -> Void
    ) async throws {
        announce(banner)
        let moto: MotoServer
        do {
            moto = try await MotoServer.start()
        } catch {
            announce("No local AWS emulator: \(error). Run `make dev` to install moto; the server starts without demo data.")
            return try await body(DevEnvironment(moto: nil, ecsEndpoint: nil, announce: announce))
        }
        defer { moto.stop() }
        var settings = FakeECS.Settings()
        settings.rolloutDuration = rolloutDuration
        settings.taskDuration = .seconds(2)
        settings.region = "us-east-1"
        try await withLocalServer(FakeECS(settings: settings).router) { ecsEndpoint in
            announce(
                "A local AWS emulator runs at \(moto.endpoint) (moto), with ECS and CloudWatch Logs simulated at \(ecsEndpoint); "
                    + "Berth's AWS calls go there, nothing leaves this machine.")
            try await body(DevEnvironment(moto: moto, ecsEndpoint: ecsEndpoint, announce: announce))
        }
    }
}
