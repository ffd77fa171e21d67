import AWSCore
import AWSSigV4
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import Logging

/// What `berth server --dev` adds: a loud banner and, when moto is installed, a local AWS emulator
/// (moto for STS and IAM; ECS and CloudWatch Logs simulated by Berth's own fake control plane,
/// because moto's ECS never finishes a rollout) with a demo environment, account, cluster target
/// and project already registered, so that a first deployment works out of the box.
struct DevEnvironment {
    let moto: MotoServer?
    /// Where the simulated ECS and CloudWatch Logs answer.
    let ecsEndpoint: String?

    static let banner = """
        ************************************************************************
        *  DEVELOPMENT SERVER — for trying Berth out, not for real use.        *
        *  Its data lives in a temporary directory and is deleted on exit.     *
        ************************************************************************
        """

    /// How long a demo rollout takes: long enough to watch, short enough to wait for.
    static let rolloutDuration = Duration.seconds(6)

    /// Environment variables that send the server's AWS calls to the emulators.
    var environment: [String: String] {
        var values = moto?.environment.values ?? [:]
        if let ecsEndpoint {
            values["AWS_ENDPOINT_URL_ECS"] = ecsEndpoint
            values["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = ecsEndpoint
        }
        return values
    }

    /// Starts the emulators, runs `body` with them and stops them when it returns.
    static func run(logger: Logger, _ body: (DevEnvironment) async throws -> Void) async throws {
        Console.line(banner)
        let moto: MotoServer
        do {
            moto = try await MotoServer.start()
        } catch {
            Console.line("No local AWS emulator: \(error). Run `make dev` to install moto; the server starts without demo data.")
            return try await body(DevEnvironment(moto: nil, ecsEndpoint: nil))
        }
        defer { moto.stop() }
        var settings = FakeECS.Settings()
        settings.rolloutDuration = rolloutDuration
        settings.taskDuration = .seconds(2)
        settings.region = "us-east-1"
        try await withLocalServer(FakeECS(settings: settings).router) { ecsEndpoint in
            Console.line(
                "A local AWS emulator runs at \(moto.endpoint) (moto), with ECS and CloudWatch Logs simulated at \(ecsEndpoint); "
                    + "Berth's AWS calls go there, nothing leaves this machine.")
            try await body(DevEnvironment(moto: moto, ecsEndpoint: ecsEndpoint))
        }
    }

    /// Registers the demo records and queues a first health check.
    func seed(server: BerthServer, logger: Logger) async throws {
        guard let moto else { return }
        let credentials = try await moto.createAdministrator(named: "berth-demo")
        let store = server.store
        let space = try await store.space(Space.defaultName)
        let now = Date()
        let development = try await store.createEnvironment(
            Environment(spaceID: space.id, name: "Development", sortOrder: 0, createdAt: now), position: nil)
        var account = Account(
            spaceID: space.id, kind: .awsAccessKey, name: "demo-aws", description: "Keys of an IAM user in the local emulator",
            region: "us-east-1", accessKeyID: credentials.accessKeyID, createdAt: now)
        account.secretKey = try server.secrets.seal(credentials.secretAccessKey, for: .accountSecretKey(accountID: account.id))
        account = try await store.createAccount(account)
        let pool = try await store.defaultWorkerPool(spaceID: space.id)
        let target = try await store.createTarget(
            ECSClusterTarget(
                spaceID: space.id, name: "demo-cluster", environmentIDs: [development.id], roles: ["web"],
                authentication: .account(account.id), assumeRole: nil, region: "us-east-1", clusterName: "berth-demo",
                workerPoolID: pool.id, createdAt: now))
        _ = try await server.engine.checkHealth(of: [target])
        let project = try await store.createProject(
            Project(
                spaceID: space.id, name: "Demo", description: "A web service and a report", steps: Self.demoSteps, createdAt: now)
        )
        _ = try await store.setVariable(ProjectVariable(projectID: project.id, name: "Replicas", kind: .text, value: "2"))
        _ = try await store.createRelease(
            Release(
                spaceID: space.id, projectID: project.id, version: "1.0.0",
                snapshot: try ReleaseSnapshot.freeze(
                    project: project, variables: try await store.variables(projectID: project.id), chosen: [:]),
                createdAt: now))
        Console.line(
            """
            Demo data: the environment 'Development', the account 'demo-aws', the target 'demo-cluster' (ECS cluster \
            'berth-demo', health check queued) and the project 'Demo' with its release 1.0.0. Try:
              berth target list
              berth deploy --project Demo --release 1.0.0 --environment Development --wait
              berth release create --project Demo --version 1.0.1 --image web=nginx:unhealthy
              berth deploy --project Demo --release 1.0.1 --environment Development --wait   # the circuit breaker rolls it back
            In the simulation an image tagged unhealthy, crash, badpull or stuck fails the way its tag says.
            """)
    }

    /// Deploy the `web` service, then report what was deployed from the step's output variables.
    static let demoSteps: [DeploymentStep] = [
        DeploymentStep(
            name: "Deploy web", kind: .deployService, targetRoles: ["web"],
            properties: .object([
                ("serviceName", .string("web-#{Berth.Environment.Slug}")),
                ("desiredCount", .string("#{Replicas}")),
                (
                    "taskDefinition",
                    .object([
                        ("family", .string("demo-web")),
                        (
                            "containerDefinitions",
                            .array([
                                .object([
                                    ("name", .string("web")), ("image", .string("nginx:1.27")), ("memory", .number(256)),
                                    ("portMappings", .array([.object([("containerPort", .number(80))])])),
                                ])
                            ])
                        ),
                    ])
                ),
                ("timeoutSeconds", .number(120)),
            ])),
        DeploymentStep(
            name: "Report", kind: .awsCLIScript, targetRoles: [],
            properties: .object([
                (
                    "script",
                    .string(
                        """
                        echo "#{Berth.Project.Name} #{Berth.Release.Number} runs in #{Berth.Environment.Name}:"
                        echo "  #{Berth.Action[Deploy web].Output.TaskDefinitionArn}"
                        """)
                )
            ])),
    ]
}
