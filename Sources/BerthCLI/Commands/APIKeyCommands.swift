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
        @Option(help: "The key stops working after this many days: 30d (or 30), at most 3650d.") var expires: String?
        @Option(help: "Narrow the key to this role in --space (it never exceeds its user's rights either).")
        var role: String?
        @Flag(name: .customLong("every-space"), help: "Narrow to --role in every space instead of --space.")
        var everySpace = false

        func validate() throws {
            if let expires, Self.days(expires) == nil {
                throw ValidationError("--expires '\(expires)' is not a number of days from 1 to 3650 (e.g. 30d).")
            }
            if everySpace, role == nil { throw ValidationError("--every-space narrows a --role: name the role too.") }
        }

        static func days(_ text: String) -> Int? {
            let number = text.hasSuffix("d") ? String(text.dropLast()) : text
            return Int(number).flatMap { (1...3650).contains($0) ? $0 : nil }
        }

        func run() async throws {
            let client = try options.connect()
            let body = Components.Schemas.ApiKeyCreate(
                name: name, user: user, expiresInDays: expires.flatMap(Self.days), role: role,
                space: role == nil || everySpace ? nil : options.space)
            switch try await client.call({ try await $0.createApiKey(body: .json(body)) }) {
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
