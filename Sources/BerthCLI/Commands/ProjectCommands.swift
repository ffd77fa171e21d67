import ArgumentParser
import BerthAPI
import Foundation

/// `berth project …`
struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Projects: their deployment process and variables.",
        subcommands: [Create.self, Apply.self, List.self, Show.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an empty project (give it a process with apply).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The project's name.") var name: String
        @Option(help: "What the project deploys.") var description: String?

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.createProject(
                    path: .init(space: options.space), body: .json(.init(name: name, description: description)))
            }
            switch output {
            case .created(let created): print(try ProjectPrinter.one(try created.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update a project from a YAML or JSON file: its steps and, when listed, all its variables.")
        @OptionGroup var options: ClientOptions
        @Option(name: [.customShort("f"), .customLong("file")], help: "The project file (project.yaml).") var file: String
        @Option(help: "The project's name (default: the file's 'name').") var project: String?

        func run() async throws {
            let loaded = try ProjectFile.load(file)
            guard let name = project ?? loaded.name else {
                throw CLIFailure.usage("Name the project with --project or a 'name' in \(file).")
            }
            let client = try options.connect()
            let output = try await client.call {
                try await $0.applyProject(path: .init(space: options.space, project: name), body: .json(loaded.apply))
            }
            switch output {
            case .ok(let ok): print(try ProjectPrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listProjects(path: .init(space: options.space)) }) {
            case .ok(let ok):
                let projects = try ok.body.json.items
                if options.output == .json { return print(try Output.json(projects)) }
                print(
                    Output.table(
                        ["NAME", "STEPS", "DESCRIPTION"], projects.map { [$0.name, "\($0.steps.count)", $0.description] }))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a project and its process.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The project's name or id.") var project: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.getProject(path: .init(space: options.space, project: project)) }) {
            case .ok(let ok): print(try ProjectPrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a project with its variables and releases.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The project's name or id.") var project: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.deleteProject(path: .init(space: options.space, project: project)) }) {
            case .noContent: print("Deleted the project '\(project)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum ProjectPrinter {
    static func one(_ project: Components.Schemas.Project, _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(project) }
        var text = Output.fields([("Project", project.name), ("Id", project.id), ("Description", project.description)])
        text += "\n\n"
        text += Output.table(
            ["#", "STEP", "TYPE", "ROLES"],
            project.steps.enumerated().map {
                [
                    "\($0.offset + 1)", $0.element.name, $0.element._type.rawValue,
                    ($0.element.targetRoles ?? []).joined(separator: ","),
                ]
            })
        return text
    }
}

/// `berth variable …`
struct VariableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "variable", abstract: "A project's variables.", subcommands: [Set.self, List.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a variable's value in a scope (replaces the value with the same scope, or adds one).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The project.") var project: String
        @Argument(help: "The variable's name.") var name: String
        @Argument(help: "The value (sensitive values: omit it to be asked, or use --value-stdin).") var value: String?
        @Flag(help: "A secret: sealed at rest, never shown, masked in every log.") var sensitive = false
        @Flag(help: "The value names an AWS account; the variable expands to its keys or role.") var account = false
        @Flag(name: .customLong("value-stdin"), help: "Read the value from standard input.") var valueStdin = false
        @Option(name: .customLong("environment"), help: "Only in this environment (repeatable).") var environments: [String] = []
        @Option(name: .customLong("role"), help: "Only on targets with this role (repeatable).") var roles: [String] = []
        @Option(name: .customLong("target"), help: "Only on this target (repeatable).") var targets: [String] = []

        func validate() throws {
            if sensitive, account { throw ValidationError("--sensitive and --account cannot be combined.") }
            if value != nil, valueStdin {
                throw ValidationError("Give the value as an argument or with --value-stdin, not both.")
            }
        }

        func run() async throws {
            var value = self.value
            if valueStdin { value = try SecretPrompt.readFromStandardInput(name: "value") }
            if value == nil {
                guard sensitive else { throw CLIFailure.usage("Give the variable's value.") }
                value = try SecretPrompt.prompt("Value of \(name)", flag: "--value-stdin")
            }
            let type: Components.Schemas.VariableType = sensitive ? .sensitive : account ? .awsAccount : .text
            let input = Components.Schemas.VariableInput(
                name: name, _type: type, value: value,
                scope: .init(environments: environments, roles: roles, targets: targets))
            let client = try options.connect()
            let output = try await client.call {
                try await $0.setVariable(path: .init(space: options.space, project: project), body: .json(input))
            }
            switch output {
            case .ok(let ok): print(try VariablePrinter.render([try ok.body.json], options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a project's variables (sensitive values are never shown).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The project.") var project: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listVariables(path: .init(space: options.space, project: project)) }) {
            case .ok(let ok): print(try VariablePrinter.render(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum VariablePrinter {
    static func render(_ variables: [Components.Schemas.Variable], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(variables) }
        return Output.table(
            ["NAME", "TYPE", "VALUE", "SCOPE"],
            variables.map { variable in
                let scope = [
                    (variable.scope.environments ?? []).map { "env:\($0)" }, (variable.scope.roles ?? []).map { "role:\($0)" },
                    (variable.scope.targets ?? []).map { "target:\($0)" },
                ].flatMap(\.self).joined(separator: " ")
                let value =
                    variable._type == .sensitive
                    ? (variable.secret?.hasValue == true ? "********" : "(not set)") : variable.value ?? ""
                return [variable.name, variable._type.rawValue, value, scope.isEmpty ? "(all)" : scope]
            })
    }
}
