import ArgumentParser
import BerthAPI
import Foundation

/// `berth task …`
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Server tasks: deployments, account tests, health checks.",
        subcommands: [Show.self, Log.self, List.self, Cancel.self, Approve.self, Reject.self])

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve the manual intervention a deployment waits on (or an ECS PAUSE hook); it goes on.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The task's id.") var task: String
        @Option(help: "Why (in the log and the audit event).") var note: String?
        @Option(help: "The question answered (int-…), when the task waits on several (an ECS PAUSE hook per target).")
        var question: String?

        func run() async throws {
            try await TaskCommand.answer(task, approve: true, note: note, question: question, options: options)
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Reject the manual intervention a deployment waits on; the deployment fails (at an ECS PAUSE hook, ECS rolls back)."
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The task's id.") var task: String
        @Option(help: "Why (in the log and the audit event).") var note: String?
        @Option(help: "The question answered (int-…), when the task waits on several (an ECS PAUSE hook per target).")
        var question: String?

        func run() async throws {
            try await TaskCommand.answer(task, approve: false, note: note, question: question, options: options)
        }
    }

    /// Approves or rejects the manual intervention `task` waits on.
    static func answer(_ task: String, approve: Bool, note: String?, question: String?, options: ClientOptions) async throws {
        let client = try options.connect()
        let body = Components.Schemas.InterventionAnswer(note: note, question: question)
        let answered: Components.Schemas.ServerTask
        if approve {
            switch try await client.call({ try await $0.approveTask(path: .init(task: task), body: .json(body)) }) {
            case .ok(let ok): answered = try ok.body.json
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        } else {
            switch try await client.call({ try await $0.rejectTask(path: .init(task: task), body: .json(body)) }) {
            case .ok(let ok): answered = try ok.body.json
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
        if options.output == .json { return print(try Output.json(answered)) }
        print(approve ? "Approved: \(answered.description) goes on." : "Rejected: \(answered.description) fails.")
    }

    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a task's log; --follow prints it live until the task ends (exit code as for deploy --wait).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The task's id.") var task: String
        @Flag(help: "Keep printing until the task ends.") var follow = false

        func run() async throws {
            let client = try options.connect()
            let follower = TaskFollower(client: client, format: options.output)
            if follow { return try await follower.follow(task) }
            let lines = try await follower.allLines(task)
            if options.output == .json { return print(try Output.json(lines)) }
            for line in lines { print(TaskPrinter.line(line)) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running task.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The task's id.") var task: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.cancelTask(path: .init(task: task)) }) {
            case .ok(let ok): print(try TaskPrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a task and its log; --follow waits until it ends.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The task's id.") var task: String
        @Flag(help: "Print the log as it grows until the task ends; exit 1 unless it succeeded.") var follow = false

        func run() async throws {
            let client = try options.connect()
            let follower = TaskFollower(client: client, format: options.output)
            if follow {
                try await follower.follow(task)
            } else {
                let current = try await follower.task(task)
                let lines = try await follower.allLines(task)
                if options.output == .json {
                    print(try Output.json(TaskWithLog(task: current, log: lines)))
                } else {
                    print(try TaskPrinter.one(current, .table))
                    print("")
                    for line in lines { print(TaskPrinter.line(line)) }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The most recent tasks.")
        @OptionGroup var options: ClientOptions
        @Option(help: "At most this many.") var limit: Int = 20

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listTasks(query: .init(limit: limit)) }) {
            case .ok(let ok): print(try TaskPrinter.list(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

struct TaskWithLog: Encodable {
    var task: Components.Schemas.ServerTask
    var log: [Components.Schemas.TaskLogLine]
}

enum TaskPrinter {
    static func line(_ line: Components.Schemas.TaskLogLine) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withTime, .withColonSeparatorInTime]
        let section = line.section.map { "[\($0)] " } ?? ""
        return
            "\(formatter.string(from: line.time))  \(line.level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0))  \(section)\(line.message)"
    }

    static func list(_ tasks: [Components.Schemas.ServerTask], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(tasks) }
        return Output.table(
            ["ID", "STATE", "KIND", "DESCRIPTION", "QUEUED BY", "CREATED"],
            tasks.map {
                [$0.id, $0.state.rawValue, $0.kind.rawValue, $0.description, $0.queuedBy ?? "-", Output.time($0.createdAt)]
            })
    }

    static func one(_ task: Components.Schemas.ServerTask, _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(task) }
        return Output.fields([
            ("Task", task.id), ("Description", task.description), ("Queued by", task.queuedBy ?? "the server"),
            ("State", task.state.rawValue + (task.cancelRequested == true ? " (cancel requested)" : "")), ("Node", task.node),
            ("Health", task.healthStatus?.rawValue), ("Identity", task.identityArn), ("Error", task.errorMessage),
            ("Created", Output.time(task.createdAt)), ("Started", task.startedAt.map { Output.time($0) }),
            ("Completed", task.completedAt.map { Output.time($0) }),
        ])
    }
}
