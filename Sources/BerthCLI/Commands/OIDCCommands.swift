import ArgumentParser
import BerthAPI
import Foundation

/// `berth oidc …`: Berth as an OpenID Connect identity provider.
struct OIDCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oidc", abstract: "Berth as an OpenID Connect identity provider for AWS.",
        subcommands: [Provider.self, Keys.self])

    struct Provider: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the issuer and print the command that registers Berth as an OIDC provider in IAM.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.getOidcProvider() }) {
            case .ok(let ok):
                let body = try ok.body.json
                if options.output == .json {
                    print(try Output.json(body))
                    return
                }
                print(
                    Output.fields([
                        ("Issuer", body.issuer), ("Discovery", body.discoveryUrl), ("JWKS", body.jwksUrl),
                        ("Provider in IAM", body.providerHost), ("Audiences", body.audiences.joined(separator: ", ")),
                    ]))
                if let warning = body.warning { print("\nWarning: \(warning)") }
                print("\nRegister Berth in each AWS account whose roles OIDC accounts assume:\n  \(body.createProviderCommand)")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The keys Berth signs OIDC tokens with.", subcommands: [List.self, Rotate.self, Revoke.self])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys, newest first, with their state.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listOidcKeys() }) {
            case .ok(let ok):
                let keys = try ok.body.json.items
                print(options.output == .json ? try Output.json(keys) : KeyPrinter.table(keys))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new signing key: published now, signing after --activate-in seconds.",
            discussion: """
                Relying parties (AWS STS) cache the JWKS, so a new key should be published before it signs; \
                the key it replaces stays published until every token it signed has expired.
                """)
        enum Algorithm: String, ExpressibleByArgument, CaseIterable {
            case RS256, ES256
        }

        @OptionGroup var options: ClientOptions
        @Option(help: "RS256 (default) or ES256.") var algorithm: Algorithm?
        @Option(name: .customLong("activate-in"), help: "Seconds before the key signs (default 600; 0 signs at once).")
        var activateIn: Int?

        func run() async throws {
            let client = try options.connect()
            let body = Components.Schemas.OidcKeyRotate(
                algorithm: algorithm.flatMap { .init(rawValue: $0.rawValue) }, activateAfterSeconds: activateIn)
            switch try await client.call({ try await $0.rotateOidcKey(body: .json(body)) }) {
            case .created(let created):
                let key = try created.body.json
                if options.output == .json {
                    print(try Output.json(key))
                } else {
                    print(
                        "Created the signing key \(key.kid) (\(key.algorithm.rawValue)): published now, signs from \(Output.time(key.activatesAt))."
                    )
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a signing key: it leaves the JWKS and stops signing at once.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The key's id or kid (a kid starting with '-' goes after '--': keys revoke -- -AbC…).") var key: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.revokeOidcKey(path: .init(key: key)) }) {
            case .ok(let ok):
                let body = try ok.body.json
                if options.output == .json {
                    print(try Output.json(body))
                } else {
                    print("Revoked the signing key \(body.key.kid); tokens it signed are no longer accepted.")
                    for action in body.actions { print(action) }
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum KeyPrinter {
    static func table(_ keys: [Components.Schemas.OidcKey]) -> String {
        Output.table(
            ["KID", "ALGORITHM", "STATE", "SIGNS FROM", "SIGNS UNTIL", "PUBLISHED UNTIL", "ID"],
            keys.map {
                [
                    $0.kid, $0.algorithm.rawValue, $0.state.rawValue, Output.time($0.activatesAt),
                    Output.time($0.revokedAt ?? $0.signsUntil), Output.time($0.revokedAt ?? $0.publishedUntil), $0.id,
                ]
            })
    }
}
