import ArgumentParser
import BerthAPI
import Foundation

/// `berth release …`
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Releases: a project's process, variables and images, frozen.",
        subcommands: [Create.self, List.self, Verify.self, Diff.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check, before deploying, what ECS would otherwise find wrong: roles, images, secrets, target groups, network (exit 1 on a problem; nothing changes).",
            discussion:
                "Runs the release's ECS service steps in verify mode on the environment's targets, with their credentials, and prints the report of each check."
        )
        @OptionGroup var options: ClientOptions
        @Option(help: "The project.") var project: String
        @Option(help: "The release's version or id.") var release: String
        @Option(help: "The environment whose targets are checked.") var environment: String
        @Flag(name: .customLong("no-wait"), help: "Print the queued task and return.") var noWait = false

        func run() async throws {
            try await ReleaseCommand.preview(
                verify: true, project: project, release: release, environment: environment, noWait: noWait, options: options)
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the unified diff of the task definition and service settings the release would apply against what runs now (nothing changes)."
        )
        @OptionGroup var options: ClientOptions
        @Option(help: "The project.") var project: String
        @Option(help: "The release's version or id.") var release: String
        @Option(help: "The environment whose services are compared.") var environment: String
        @Flag(name: .customLong("no-wait"), help: "Print the queued task and return.") var noWait = false

        func run() async throws {
            try await ReleaseCommand.preview(
                verify: false, project: project, release: release, environment: environment, noWait: noWait, options: options)
        }
    }

    /// Queues a verify or diff task and follows its log (exit code as for `deploy --wait`).
    static func preview(
        verify: Bool, project: String, release: String, environment: String, noWait: Bool, options: ClientOptions
    ) async throws {
        let client = try options.connect()
        let path = Operations.VerifyRelease.Input.Path(space: options.space, project: project, release: release)
        let body = Components.Schemas.ReleasePreviewRequest(environment: environment)
        let task: Components.Schemas.ServerTask
        if verify {
            switch try await client.call({ try await $0.verifyRelease(path: path, body: .json(body)) }) {
            case .accepted(let accepted): task = try accepted.body.json
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        } else {
            let diffPath = Operations.DiffRelease.Input.Path(space: options.space, project: project, release: release)
            switch try await client.call({ try await $0.diffRelease(path: diffPath, body: .json(body)) }) {
            case .accepted(let accepted): task = try accepted.body.json
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
        if noWait { return print(try TaskPrinter.one(task, options.output)) }
        try await TaskFollower(client: client, format: options.output).follow(task.id)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a release that pins every container's image.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The project.") var project: String
        @Option(help: "The release's version, e.g. 1.4.2.") var version: String
        @Option(
            name: .customLong("image"),
            help: "CONTAINER=REPO:TAG, the image of a container (repeatable); wins over the image a step names.")
        var images: [String] = []

        func parsedImages() throws -> [String: String] {
            var parsed: [String: String] = [:]
            for image in images {
                guard let equals = image.firstIndex(of: "="), equals != image.startIndex,
                    image.index(after: equals) != image.endIndex
                else {
                    throw CLIFailure.usage("--image '\(image)' is not CONTAINER=REPO:TAG.")
                }
                let container = String(image[..<equals])
                if parsed[container] != nil { throw CLIFailure.usage("--image names the container '\(container)' twice.") }
                parsed[container] = String(image[image.index(after: equals)...])
            }
            return parsed
        }

        func run() async throws {
            let body = Components.Schemas.ReleaseCreate(version: version, images: .init(additionalProperties: try parsedImages()))
            let client = try options.connect()
            let output = try await client.call {
                try await $0.createRelease(path: .init(space: options.space, project: project), body: .json(body))
            }
            switch output {
            case .created(let created): print(try ReleasePrinter.render([try created.body.json], options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A project's releases, newest first.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The project.") var project: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listReleases(path: .init(space: options.space, project: project)) }) {
            case .ok(let ok): print(try ReleasePrinter.render(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum ReleasePrinter {
    static func render(_ releases: [Components.Schemas.Release], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(releases) }
        return Output.table(
            ["VERSION", "IMAGES", "STEPS", "MAY GO TO", "CREATED"],
            releases.map {
                [
                    $0.version,
                    $0.images.additionalProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                        separator: " "),
                    "\($0.steps.count)", ($0.mayGoTo ?? []).joined(separator: ", "), Output.time($0.createdAt),
                ]
            })
    }
}
