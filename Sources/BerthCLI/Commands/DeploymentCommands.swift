import ArgumentParser
import BerthAPI
import Foundation

/// `berth deploy`: send a release to an environment.
struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Deploy a release to an environment.",
        discussion: """
            With --wait the log is followed live and the exit code says how the deployment ended: \
            0 succeeded, 1 failed, 4 rolled back (the ECS circuit breaker restored the previous revision), \
            5 timed out, 6 cancelled; 3 when the server cannot be reached.
            """)
    @OptionGroup var options: ClientOptions
    @Option(help: "The project.") var project: String
    @Option(
        help:
            "The release's version; or 'previous': the last release that succeeded in the environment before the one deployed there last (to go back)."
    ) var release: String
    @Option(help: "The environment to deploy to.") var environment: String
    @Flag(help: "Follow the log until the deployment ends; the exit code says how.") var wait = false

    func run() async throws {
        let client = try options.connect()
        let body = Components.Schemas.DeploymentCreate(project: project, release: release, environment: environment)
        let deployment: Components.Schemas.Deployment
        switch try await client.call({ try await $0.createDeployment(path: .init(space: options.space), body: .json(body)) }) {
        case .accepted(let accepted): deployment = try accepted.body.json
        case .default(let status, let error): throw BerthClient.failure(status, error)
        }
        if !wait {
            if options.output == .json { return print(try Output.json(deployment)) }
            print(
                "Deploying \(deployment.project) \(deployment.release) to \(deployment.environment): task \(deployment.taskId).")
            print("Follow it with: berth task log \(deployment.taskId) --follow")
            return
        }
        if options.output == .table {
            Console.line(
                "Deploying \(deployment.project) \(deployment.release) to \(deployment.environment) (task \(deployment.taskId)).")
        }
        try await TaskFollower(client: client, format: options.output).follow(deployment.taskId)
    }
}

/// `berth deployment …`
struct DeploymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment", abstract: "Deployments: which release went where, and how it ended.",
        subcommands: [List.self, Redeploy.self])

    struct Redeploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deploy a deployment's release to its environment again.",
            discussion: "With --wait the exit code says how it ended, as for berth deploy.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The deployment's id (berth deployment list).") var deployment: String
        @Flag(help: "Follow the log until the deployment ends; the exit code says how.") var wait = false

        func run() async throws {
            let client = try options.connect()
            let queued: Components.Schemas.Deployment
            switch try await client.call({
                try await $0.redeployDeployment(path: .init(space: options.space, deployment: deployment))
            }) {
            case .accepted(let accepted): queued = try accepted.body.json
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
            if options.output == .json, !wait { return print(try Output.json(queued)) }
            if options.output == .table {
                Console.line(
                    "Deploying \(queued.project) \(queued.release) to \(queued.environment) again (task \(queued.taskId)).")
            }
            if wait { try await TaskFollower(client: client, format: options.output).follow(queued.taskId) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deployments, newest first; --latest shows what is deployed where.",
            discussion: """
                With --latest, one line per project and environment: the newest deployment there, \
                ordered by project and then by the environments' order.
                """)
        @OptionGroup var options: ClientOptions
        @Option(help: "Only this project's deployments.") var project: String?
        @Option(help: "Only deployments to this environment.") var environment: String?
        @Flag(help: "Only the newest deployment of each project to each environment.") var latest = false
        @Option(help: "At most this many (1–1000).") var limit: Int = 50

        func run() async throws {
            let client = try options.connect()
            let query = Operations.ListDeployments.Input.Query(
                project: project, environment: environment, latest: latest, limit: limit)
            switch try await client.call({ try await $0.listDeployments(path: .init(space: options.space), query: query) }) {
            case .ok(let ok): print(try DeploymentPrinter.render(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum DeploymentPrinter {
    static func render(_ deployments: [Components.Schemas.Deployment], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(deployments) }
        return Output.table(
            ["PROJECT", "RELEASE", "ENVIRONMENT", "STATE", "DEPLOYED BY", "CREATED", "COMPLETED", "TASK"],
            deployments.map {
                [
                    $0.project, $0.release, $0.environment, $0.state.rawValue, $0.deployedBy ?? "-", Output.time($0.createdAt),
                    Output.time($0.completedAt), $0.taskId,
                ]
            })
    }
}
