import AWSSigV4
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import BerthUseCases
import Foundation
import Logging

/// The demo records of `berth server --dev`: an environment, an access key account in the emulator,
/// an ECS cluster target and a project with a first release.
extension DevEnvironment {
    /// Registers the demo records and queues a first health check, through the same use cases as
    /// the API (so the audit log shows them), as the administrator.
    public func seed(server: BerthServer, logger: Logger) async throws {
        guard let moto else { return }
        let credentials = try await moto.createAdministrator(named: "berth-demo")
        let actions = server.useCases
        let administrator = try await actions.requester(actingAs: User.administratorName, keyName: "berth server --dev")
        let space = Space.defaultName
        _ = try await actions.createEnvironment(name: "Development", sortOrder: nil, space: space, by: administrator)
        _ = try await actions.createAccount(
            AccountDraft(
                kind: .awsAccessKey, name: "demo-aws", description: "Keys of an IAM user in the local emulator",
                region: "us-east-1", accessKeyID: credentials.accessKeyID, secretKey: credentials.secretAccessKey),
            environments: [], space: space, by: administrator)
        _ = try await actions.createTarget(
            UseCases.TargetInput(
                name: "demo-cluster", environments: ["Development"], roles: ["web"], account: "demo-aws", region: "us-east-1",
                clusterName: "berth-demo"),
            space: space, by: administrator)
        _ = try await actions.checkTargetHealth("demo-cluster", space: space, by: administrator)
        _ = try await actions.createProject(
            name: "Demo", description: "A web service and a report", steps: Self.demoSteps, space: space, by: administrator)
        _ = try await actions.setVariable(
            UseCases.VariableInput(name: "Replicas", value: "2"), project: "Demo", space: space, by: administrator)
        _ = try await actions.createRelease(version: "1.0.0", images: [:], project: "Demo", space: space, by: administrator)
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
