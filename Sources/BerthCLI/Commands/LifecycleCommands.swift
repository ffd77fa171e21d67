import ArgumentParser
import BerthAPI
import Foundation

/// `berth lifecycle …`: the phases a project's releases pass, in order.
struct LifecycleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifecycle",
        abstract: "Lifecycles: the phases of environments a release passes in order (a project uses one with 'lifecycle:').",
        subcommands: [Create.self, List.self, Show.self, Update.self])

    static let phaseHelp = ArgumentHelp(
        "A phase, in order: NAME=ENV[,ENV…] (or just ENV: a phase of that one environment), then ';optional' (it never holds a release back) or ';min=N' (N of its environments suffice). Repeat for each phase.",
        valueName: "phase")

    /// `Test=Staging,QA;min=1`, `Development;optional`, `Production`.
    static func phase(_ text: String) throws -> Components.Schemas.LifecyclePhase {
        var parts = text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let head = parts.first, !head.isEmpty else { throw ValidationError("--phase '\(text)' names no phase.") }
        parts.removeFirst()
        let name: String
        let environments: [String]
        if let equals = head.firstIndex(of: "=") {
            name = head[..<equals].trimmingCharacters(in: .whitespaces)
            environments = head[head.index(after: equals)...].split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            .filter { !$0.isEmpty }
        } else {
            name = head
            environments = [head]
        }
        guard !name.isEmpty, !environments.isEmpty else {
            throw ValidationError("--phase '\(text)' needs a name and at least one environment: NAME=ENV[,ENV…].")
        }
        var optional = false
        var minimum: Int?
        for part in parts {
            if part == "optional" {
                optional = true
            } else if part.hasPrefix("min="), let value = Int(part.dropFirst(4)), value > 0 {
                minimum = value
            } else {
                throw ValidationError("--phase '\(text)': '\(part)' is neither 'optional' nor 'min=N' (N ≥ 1).")
            }
        }
        return .init(name: name, environments: environments, optional: optional, minimumEnvironments: minimum)
    }

    static func render(_ lifecycles: [Components.Schemas.Lifecycle], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(lifecycles) }
        return Output.table(
            ["NAME", "PHASES"],
            lifecycles.map { lifecycle in
                [
                    lifecycle.name,
                    lifecycle.phases.map { phase in
                        "\(phase.name) (\(phase.environments.joined(separator: ", "))"
                            + (phase.optional == true ? ", optional" : "")
                            + (phase.minimumEnvironments.map { ", \($0) of them" } ?? "") + ")"
                    }.joined(separator: " → "),
                ]
            })
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a lifecycle, e.g. --phase Development --phase Test=Staging,QA;min=1 --phase Production.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The lifecycle's name.") var name: String
        @Option(name: .customLong("phase"), help: LifecycleCommand.phaseHelp) var phases: [String] = []
        @Option(help: "What it is for.") var description: String?

        func run() async throws {
            guard !phases.isEmpty else { throw ValidationError("Give at least one --phase.") }
            let body = Components.Schemas.LifecycleInput(
                name: name, description: description, phases: try phases.map(LifecycleCommand.phase))
            let client = try options.connect()
            switch try await client.call({ try await $0.createLifecycle(path: .init(space: options.space), body: .json(body)) }) {
            case .created(let created): print(try LifecycleCommand.render([try created.body.json], options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the space's lifecycles.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listLifecycles(path: .init(space: options.space)) }) {
            case .ok(let ok): print(try LifecycleCommand.render(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a lifecycle and its phases.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The lifecycle's name or id.") var lifecycle: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({
                try await $0.getLifecycle(path: .init(space: options.space, lifecycle: lifecycle))
            }) {
            case .ok(let ok): print(try LifecycleCommand.render([try ok.body.json], options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a lifecycle's phases (and rename it).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The lifecycle's name or id.") var lifecycle: String
        @Option(name: .customLong("phase"), help: LifecycleCommand.phaseHelp) var phases: [String] = []
        @Option(help: "A new name.") var name: String?
        @Option(help: "What it is for.") var description: String?

        func run() async throws {
            guard !phases.isEmpty else { throw ValidationError("Give the phases, all of them, with --phase.") }
            let client = try options.connect()
            var current: Components.Schemas.Lifecycle?
            if name == nil || description == nil {
                switch try await client.call({
                    try await $0.getLifecycle(path: .init(space: options.space, lifecycle: lifecycle))
                }) {
                case .ok(let ok): current = try ok.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
            let body = Components.Schemas.LifecycleInput(
                name: name ?? current?.name ?? lifecycle, description: description ?? current?.description,
                phases: try phases.map(LifecycleCommand.phase))
            switch try await client.call({
                try await $0.updateLifecycle(path: .init(space: options.space, lifecycle: lifecycle), body: .json(body))
            }) {
            case .ok(let ok): print(try LifecycleCommand.render([try ok.body.json], options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}
