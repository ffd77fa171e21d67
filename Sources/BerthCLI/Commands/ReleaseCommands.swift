import ArgumentParser
import BerthAPI
import Foundation

/// `berth release …`
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Releases: a project's process, variables and images, frozen.",
        subcommands: [Create.self, List.self])

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
