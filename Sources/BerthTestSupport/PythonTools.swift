import AWSCore
import BerthDev
import Foundation

/// The Python test tools of `scripts/test-tools`, run with the virtual environment's Python (the one
/// beside moto), so that Berth's tokens are checked by an implementation that is not Berth's.
public enum PythonTools {
    /// The venv's `python` next to `moto_server`.
    public static func python() throws -> String {
        let moto = try MotoServer.locateExecutable()
        let python = URL(fileURLWithPath: moto).deletingLastPathComponent().appendingPathComponent("python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw TestSupportError("No python beside \(moto): run `make test`, which creates the virtual environment")
        }
        return python
    }

    /// A script of `scripts/test-tools` in this checkout.
    public static func script(_ name: String) -> String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("scripts/test-tools/\(name)")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate.path }
            directory.deleteLastPathComponent()
        }
        return "scripts/test-tools/\(name)"
    }

    /// What joserfc made of a token: its header and claims, or why it is not valid.
    public struct TokenVerification: Sendable {
        public var isValid: Bool
        public var header: [String: String]
        public var claims: [String: any Sendable]
        public var failure: String
    }

    /// Verifies `token` like a relying party: discovery and JWKS fetched from `issuer`, then the
    /// signature, `iss`, `aud`, `sub`, `exp`, `nbf`, `iat` and `jti` (time checked at `now`).
    public static func verifyToken(
        _ token: String, issuer: String, audience: String, subject: String, now: Date? = nil
    ) async throws -> TokenVerification {
        var arguments = [
            script("verify_oidc_token.py"), "--issuer", issuer, "--audience", audience, "--subject", subject,
        ]
        if let now { arguments += ["--now", String(Int(now.timeIntervalSince1970))] }
        let result = try await BerthProcess.run(arguments, environment: [:], standardInput: token, binary: try python())
        guard result.status == 0 else {
            return TokenVerification(
                isValid: false, header: [:], claims: [:],
                failure: (result.standardOutput + result.standardError).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any] ?? [:]
        let header = (object["header"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        let claims = (object["claims"] as? [String: Any] ?? [:]).compactMapValues { SendableJSON.wrap($0) }
        return TokenVerification(isValid: true, header: header, claims: claims, failure: "")
    }
}

/// JSON values as `Sendable` Swift values: strings, numbers (Double), Bools, arrays and dictionaries.
enum SendableJSON {
    static func wrap(_ value: Any) -> (any Sendable)? {
        switch value {
        case let string as String: return string
        case let number as NSNumber: return number.doubleValue
        case let array as [Any]: return array.compactMap(wrap)
        case let dictionary as [String: Any]: return dictionary.compactMapValues(wrap) as [String: any Sendable]
        default: return nil
        }
    }
}

/// An STS endpoint that verifies AssumeRoleWithWebIdentity as AWS does (provider, audience,
/// signature against the issuer's JWKS, trust policy from moto's IAM) and passes everything else
/// to moto: `scripts/test-tools/oidc_sts_gate.py`.
public final class OIDCGate: Sendable {
    public let port: Int
    public let endpoint: String
    private let process: Process

    public static func start(moto: MotoServer) async throws -> OIDCGate {
        let python = try PythonTools.python()
        let (process, port) = try await launchOnFreeLoopbackPort(
            "the OIDC STS gate", probePath: "/moto-api/data.json", successOnly: false
        ) { port in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [PythonTools.script("oidc_sts_gate.py"), "--port", String(port), "--moto", moto.endpoint]
            process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        return OIDCGate(port: port, process: process)
    }

    private init(port: Int, process: Process) {
        self.port = port
        self.endpoint = "http://127.0.0.1:\(port)"
        self.process = process
    }

    deinit { stop() }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
    }
}
