import ArgumentParser
import BerthAPI
import Foundation

/// `berth apikey …`
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "API keys for the CLI, CI pipelines and scripts.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key; it is shown this once.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "A name for the key, e.g. ci-pipeline.") var name: String
        @Option(
            help: "The user (or service account) whose rights the key carries (default: yours; another's needs ApiKeyManage).")
        var user: String?

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.createApiKey(body: .json(.init(name: name, user: user))) }) {
            case .created(let created):
                let body = try created.body.json
                if options.output == .json {
                    print(try Output.json(body))
                } else {
                    print("API key '\(body.apiKey.name)' (\(body.apiKey.id)) — shown this once, store it now:\n\(body.key)")
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never the keys themselves).")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listApiKeys() }) {
            case .ok(let ok):
                let keys = try ok.body.json.items
                if options.output == .json {
                    print(try Output.json(keys))
                } else {
                    print(
                        Output.table(
                            ["NAME", "PREFIX", "ID", "CREATED", "LAST USED", "REVOKED"],
                            keys.map {
                                [
                                    $0.name, $0.prefix + "…", $0.id, Output.time($0.createdAt), Output.time($0.lastUsedAt),
                                    Output.time($0.revokedAt),
                                ]
                            }))
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key at once.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The key's name or id.") var key: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.revokeApiKey(path: .init(apiKey: key)) }) {
            case .noContent: print(options.output == .json ? "{}" : "Revoked the API key '\(key)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}
