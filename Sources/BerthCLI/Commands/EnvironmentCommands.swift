import ArgumentParser
import BerthAPI
import Foundation

/// `berth environment …`
struct EnvironmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "environment", abstract: "Create, list, rename, reorder and delete environments.",
        subcommands: [Create.self, List.self, Update.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an environment (placed last unless --position).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The environment's name, e.g. Production.") var name: String
        @Option(help: "Position, 0 first.") var position: Int?

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.createEnvironment(
                    path: .init(space: options.space), body: .json(.init(name: name, sortOrder: position)))
            }
            switch output {
            case .created(let created):
                try print(EnvironmentPrinter.render([try created.body.json], options.output, single: true))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List environments in their order.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listEnvironments(path: .init(space: options.space)) }) {
            case .ok(let ok): try print(EnvironmentPrinter.render(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename an environment or move it.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The environment's name or id.") var environment: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new position, 0 first.") var position: Int?

        func validate() throws {
            guard name != nil || position != nil else { throw ValidationError("Give --name, --position, or both.") }
        }

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.updateEnvironment(
                    path: .init(space: options.space, environment: environment),
                    body: .json(.init(name: name, sortOrder: position)))
            }
            switch output {
            case .ok(let ok): try print(EnvironmentPrinter.render([try ok.body.json], options.output, single: true))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an environment that nothing uses.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The environment's name or id.") var environment: String

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.deleteEnvironment(path: .init(space: options.space, environment: environment))
            }
            switch output {
            case .noContent: print(options.output == .json ? "{}" : "Deleted the environment '\(environment)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum EnvironmentPrinter {
    static func render(_ environments: [Components.Schemas.Environment], _ format: OutputFormat, single: Bool = false) throws
        -> String
    {
        switch format {
        case .json: return try single ? Output.json(environments[0]) : Output.json(environments)
        case .table:
            return Output.table(
                ["#", "NAME", "SLUG", "ID"], environments.map { ["\($0.sortOrder)", $0.name, $0.slug, $0.id] })
        }
    }
}
