import ArgumentParser
import BerthAPI
import Foundation

/// `berth target …`
struct TargetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target", abstract: "ECS cluster deployment targets and their health.",
        subcommands: [Create.self, List.self, Show.self, Update.self, HealthCheck.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a deployment target.", subcommands: [ECS.self])
    }

    struct ECS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ecs", abstract: "Register an ECS cluster as a target.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The target's name.") var name: String
        @Option(help: "An environment (repeatable, at least one).") var environment: [String] = []
        @Option(help: "A target role, e.g. web-api (repeatable, at least one).") var role: [String] = []
        @Option(help: "The AWS region of the cluster.") var region: String
        @Option(help: "The ECS cluster's name or ARN.") var cluster: String
        @Option(help: "The account whose credentials to use.") var account: String?
        @Flag(name: .customLong("worker-credentials"), help: "Use the worker's own AWS credentials instead of an account.")
        var workerCredentials = false
        @Option(name: .customLong("assume-role-arn"), help: "Then assume this role.") var assumeRoleARN: String?
        @Option(name: .customLong("session-name"), help: "The role session name (default: berth).") var sessionName: String?
        @Option(name: .customLong("session-duration"), help: "Seconds, 900–43200 (default: the role's).") var sessionDuration:
            Int?
        @Option(name: .customLong("external-id"), help: "The external ID the role's trust policy requires.") var externalID:
            String?
        @Option(name: .customLong("worker-pool"), help: "The worker pool (default: the space's default pool).") var workerPool:
            String?

        func validate() throws {
            if account == nil && !workerCredentials { throw ValidationError("Give --account NAME or --worker-credentials.") }
            if account != nil && workerCredentials {
                throw ValidationError("--account and --worker-credentials exclude each other.")
            }
            if assumeRoleARN == nil && (sessionName != nil || sessionDuration != nil || externalID != nil) {
                throw ValidationError("--session-name, --session-duration and --external-id need --assume-role-arn.")
            }
        }

        func run() async throws {
            let client = try options.connect()
            let body = Components.Schemas.TargetCreate(
                name: name, environments: environment, roles: role, account: account,
                useWorkerCredentials: workerCredentials,
                assumeRole: assumeRoleARN.map {
                    .init(roleArn: $0, sessionName: sessionName, sessionDuration: sessionDuration, externalId: externalID)
                }, region: region, clusterName: cluster, workerPool: workerPool)
            switch try await client.call({ try await $0.createTarget(path: .init(space: options.space), body: .json(body)) }) {
            case .created(let created): print(try TargetPrinter.one(try created.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List targets with their health.")
        @OptionGroup var options: ClientOptions
        @Option(help: "Only targets in this environment.") var environment: String?
        @Option(help: "Only targets with this role.") var role: String?

        func run() async throws {
            let client = try options.connect()
            var targets: [Components.Schemas.Target] = []
            var cursor: String?
            repeat {
                let output = try await client.call {
                    try await $0.listTargets(
                        path: .init(space: options.space),
                        query: .init(environment: environment, role: role, limit: 1000, after: cursor))
                }
                switch output {
                case .ok(let ok):
                    let page = try ok.body.json
                    targets += page.items
                    cursor = page.nextCursor
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            } while cursor != nil
            print(try TargetPrinter.list(targets, options.output))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a target.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The target's name or id.") var target: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.getTarget(path: .init(space: options.space, target: target)) }) {
            case .ok(let ok): print(try TargetPrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct HealthCheck: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "health-check",
            abstract: "Check a target (or --all): credentials, then DescribeClusters. Exit 1 unless every check is Healthy.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The target's name or id.") var target: String?
        @Flag(help: "Check every target in the space.") var all = false
        @Flag(name: .customLong("no-wait"), help: "Print the queued tasks and return.") var noWait = false

        func validate() throws {
            if (target == nil) == !all { throw ValidationError("Give a target's name, or --all.") }
        }

        func run() async throws {
            let client = try options.connect()
            var tasks: [Components.Schemas.ServerTask] = []
            if let target {
                switch try await client.call({
                    try await $0.checkTargetHealth(path: .init(space: options.space, target: target))
                }) {
                case .accepted(let accepted): tasks = [try accepted.body.json]
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            } else {
                switch try await client.call({ try await $0.checkAllTargetsHealth(path: .init(space: options.space)) }) {
                case .accepted(let accepted): tasks = try accepted.body.json.items
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
            if noWait {
                print(all ? try TaskPrinter.list(tasks, options.output) : try TaskPrinter.one(tasks[0], options.output))
                return
            }
            let follower = TaskFollower(client: client, format: options.output)
            if !all {
                try await follower.follow(tasks[0].id)
                return
            }
            let finished = try await follower.waitForAll(tasks.map(\.id))
            print(try HealthPrinter.render(finished, options.output))
            if finished.contains(where: { $0.state != .succeeded }) {
                throw CLIFailure(
                    "\(finished.filter { $0.state != .succeeded }.count) of \(finished.count) targets are not healthy.")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a target; options left out keep their value (lists given replace the old ones).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The target's name or id.") var target: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "The environments (repeatable; replaces the list).") var environment: [String] = []
        @Option(help: "The target roles (repeatable; replaces the list).") var role: [String] = []
        @Option(help: "The AWS region of the cluster.") var region: String?
        @Option(help: "The ECS cluster's name or ARN.") var cluster: String?
        @Option(help: "Use this account's credentials.") var account: String?
        @Flag(name: .customLong("worker-credentials"), help: "Use the worker's own AWS credentials.") var workerCredentials =
            false
        @Option(name: .customLong("assume-role-arn"), help: "Assume this role (with the options below).") var assumeRoleARN:
            String?
        @Option(name: .customLong("session-name")) var sessionName: String?
        @Option(name: .customLong("session-duration")) var sessionDuration: Int?
        @Option(name: .customLong("external-id")) var externalID: String?
        @Flag(name: .customLong("no-assume-role"), help: "Stop assuming a role.") var noAssumeRole = false
        @Option(name: .customLong("worker-pool")) var workerPool: String?

        func validate() throws {
            if account != nil && workerCredentials {
                throw ValidationError("--account and --worker-credentials exclude each other.")
            }
            if assumeRoleARN != nil && noAssumeRole {
                throw ValidationError("--assume-role-arn and --no-assume-role exclude each other.")
            }
            if assumeRoleARN == nil && (sessionName != nil || sessionDuration != nil || externalID != nil) {
                throw ValidationError("--session-name, --session-duration and --external-id need --assume-role-arn.")
            }
        }

        func run() async throws {
            let client = try options.connect()
            let body = Components.Schemas.TargetUpdate(
                name: name, environments: environment.isEmpty ? nil : environment, roles: role.isEmpty ? nil : role,
                account: account, useWorkerCredentials: workerCredentials ? true : nil,
                assumeRole: assumeRoleARN.map {
                    .init(roleArn: $0, sessionName: sessionName, sessionDuration: sessionDuration, externalId: externalID)
                }, removeAssumeRole: noAssumeRole ? true : nil, region: region, clusterName: cluster, workerPool: workerPool)
            switch try await client.call({
                try await $0.updateTarget(path: .init(space: options.space, target: target), body: .json(body))
            }) {
            case .ok(let ok): print(try TargetPrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a target.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The target's name or id.") var target: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.deleteTarget(path: .init(space: options.space, target: target)) }) {
            case .noContent: print(options.output == .json ? "{}" : "Deleted the target '\(target)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum TargetPrinter {
    static func list(_ targets: [Components.Schemas.Target], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(targets) }
        return Output.table(
            ["NAME", "HEALTH", "REGION", "CLUSTER", "ENVIRONMENTS", "ROLES", "CREDENTIALS"],
            targets.map {
                [
                    $0.name, $0.health.status.rawValue, $0.region, $0.clusterName, $0.environments.joined(separator: ","),
                    $0.roles.joined(separator: ","), $0.account.map { "account \($0)" } ?? "worker",
                ]
            })
    }

    static func one(_ target: Components.Schemas.Target, _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(target) }
        return Output.fields([
            ("Name", target.name), ("ID", target.id), ("Environments", target.environments.joined(separator: ", ")),
            ("Roles", target.roles.joined(separator: ", ")), ("Region", target.region), ("Cluster", target.clusterName),
            ("Credentials", target.account.map { "account '\($0)'" } ?? "the worker's own"),
            ("Assume role", target.assumeRole?.roleArn), ("Session name", target.assumeRole?.sessionName),
            ("Session duration", target.assumeRole?.sessionDuration.map { "\($0) s" }),
            ("External ID", target.assumeRole?.externalId), ("Worker pool", target.workerPool),
            ("Health", target.health.status.rawValue), ("Health detail", target.health.message),
            ("Checked", target.health.checkedAt.map { Output.time($0) }),
        ])
    }
}

enum HealthPrinter {
    static func render(_ tasks: [Components.Schemas.ServerTask], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(tasks) }
        return Output.table(
            ["TASK", "HEALTH", "DETAIL"],
            tasks.map {
                [
                    $0.description.replacingOccurrences(of: "Health check of the target ", with: ""),
                    $0.healthStatus?.rawValue ?? $0.state.rawValue, $0.errorMessage ?? "",
                ]
            })
    }
}
