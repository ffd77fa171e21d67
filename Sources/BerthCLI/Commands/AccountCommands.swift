import ArgumentParser
import BerthAPI
import Foundation

/// `berth account …`
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "AWS accounts: access keys or OpenID Connect roles.",
        subcommands: [Create.self, List.self, Show.self, Test.self, TrustPolicy.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account.", subcommands: [AccessKey.self, OIDC.self])
    }

    struct AccessKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "aws", abstract: "An AWS access key account (the secret key is asked for, or read from stdin).")
        @OptionGroup var options: ClientOptions
        @Option(help: "The account's name.") var name: String
        @Option(name: .customLong("access-key"), help: "The access key id, e.g. AKIA….") var accessKey: String
        @Flag(name: .customLong("secret-key-stdin"), help: "Read the secret access key from standard input.")
        var secretKeyFromStandardInput = false
        @Option(help: "The default region.") var region: String?
        @Option(help: "Restrict the account to this environment (repeatable).") var environment: [String] = []
        @Option(help: "A description.") var description: String?

        func run() async throws {
            let secret =
                secretKeyFromStandardInput
                ? try SecretPrompt.readFromStandardInput(name: "secret-key")
                : try SecretPrompt.prompt("AWS secret access key", flag: "--secret-key-stdin")
            let body = Components.Schemas.AccountCreate(
                _type: .awsAccessKey, name: name, description: description, environments: environment, region: region,
                accessKeyId: accessKey, secretKey: secret)
            try await AccountCommand.create(body, options)
        }
    }

    struct OIDC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "aws-oidc", abstract: "An AWS OpenID Connect account: Berth assumes the role with tokens it issues.")
        @OptionGroup var options: ClientOptions
        @Option(help: "The account's name.") var name: String
        @Option(name: .customLong("role-arn"), help: "The IAM role to assume.") var roleARN: String
        @Option(name: .customLong("session-duration"), help: "Seconds, 900–43200 (default 3600).") var sessionDuration: Int?
        @Option(help: "The token audience (default: the server's host name).") var audience: String?
        @Option(name: .customLong("subject-key"), help: "A part of the subject claim (repeatable).") var subjectKeys: [String] =
            []
        @Option(
            name: .customLong("claim"),
            help: ArgumentHelp(
                "A custom claim NAME=VALUE (repeatable); a VALUE written as a JSON object or array is embedded as JSON.",
                discussion: #"AWS session tags: --claim 'https://aws.amazon.com/tags={"principal_tags":{"team":["web"]}}'"#))
        var claims: [String] = []
        @Option(help: "The default region.") var region: String?
        @Option(help: "Restrict the account to this environment (repeatable).") var environment: [String] = []
        @Option(help: "A description.") var description: String?

        func run() async throws {
            var customClaims: [String: String] = [:]
            for claim in claims {
                guard let equals = claim.firstIndex(of: "="), equals != claim.startIndex else {
                    throw ValidationError("--claim '\(claim)' is not NAME=VALUE.")
                }
                customClaims[String(claim[..<equals])] = String(claim[claim.index(after: equals)...])
            }
            let body = Components.Schemas.AccountCreate(
                _type: .awsOidc, name: name, description: description, environments: environment, region: region,
                roleArn: roleARN, sessionDuration: sessionDuration, audience: audience,
                subjectKeys: subjectKeys.isEmpty ? nil : subjectKeys,
                customClaims: customClaims.isEmpty ? nil : .init(additionalProperties: customClaims))
            try await AccountCommand.create(body, options)
        }
    }

    static func create(_ body: Components.Schemas.AccountCreate, _ options: ClientOptions) async throws {
        let client = try options.connect()
        switch try await client.call({ try await $0.createAccount(path: .init(space: options.space), body: .json(body)) }) {
        case .created(let created): print(try AccountPrinter.one(try created.body.json, options.output))
        case .default(let status, let error): throw BerthClient.failure(status, error)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listAccounts(path: .init(space: options.space)) }) {
            case .ok(let ok): print(try AccountPrinter.list(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account (secrets only as set or not).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The account's name or id.") var account: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.getAccount(path: .init(space: options.space, account: account)) }) {
            case .ok(let ok): print(try AccountPrinter.one(try ok.body.json, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Test an account: resolve its credentials and call STS GetCallerIdentity (exit 1 when AWS refuses).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The account's name or id.") var account: String
        @Flag(name: .customLong("no-wait"), help: "Print the queued task and return.") var noWait = false

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.testAccount(path: .init(space: options.space, account: account)) }) {
            case .accepted(let accepted):
                let task = try accepted.body.json
                if noWait {
                    print(try TaskPrinter.one(task, options.output))
                } else {
                    try await TaskFollower(client: client, format: options.output).follow(task.id)
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an account that no target uses.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The account's name or id.") var account: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.deleteAccount(path: .init(space: options.space, account: account)) }) {
            case .noContent: print(options.output == .json ? "{}" : "Deleted the account '\(account)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

enum AccountPrinter {
    static func list(_ accounts: [Components.Schemas.Account], _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(accounts) }
        return Output.table(
            ["NAME", "TYPE", "IDENTITY", "ENVIRONMENTS", "ID"],
            accounts.map {
                [
                    $0.name, $0._type.rawValue, $0.accessKeyId ?? $0.roleArn ?? "-",
                    $0.environments.isEmpty ? "all" : $0.environments.joined(separator: ","), $0.id,
                ]
            })
    }

    static func one(_ account: Components.Schemas.Account, _ format: OutputFormat) throws -> String {
        if format == .json { return try Output.json(account) }
        return Output.fields([
            ("Name", account.name), ("Type", account._type.rawValue), ("ID", account.id),
            ("Description", account.description.isEmpty ? nil : account.description),
            ("Access key", account.accessKeyId), ("Secret key", account.secretKey.map { $0.hasValue ? "set" : "not set" }),
            ("Role ARN", account.roleArn), ("Session duration", account.sessionDuration.map { "\($0) s" }),
            ("Audience", account.audience), ("Region", account.region),
            ("Environments", account.environments.isEmpty ? "all" : account.environments.joined(separator: ", ")),
            ("Updated", Output.time(account.updatedAt)),
        ])
    }
}
