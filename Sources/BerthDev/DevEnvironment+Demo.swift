import AWSSigV4
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import Foundation
import Logging

/// The demo records of `berth server --dev`: an environment, an access key account in the emulator,
/// an ECS cluster target and a project with a first release.
extension DevEnvironment {
    /// Registers the demo records and queues a first health check.
    public func seed(server: BerthServer, logger: Logger) async throws {
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
        announce(
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
