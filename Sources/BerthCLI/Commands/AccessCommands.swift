import ArgumentParser
import BerthAPI
import Foundation

/// `berth user …`: people and service accounts.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create, list, show, disable and enable users and service accounts (UserManage).",
        subcommands: [Create.self, List.self, Show.self, Disable.self, Enable.self, SetPassword.self, LoginLink.self])

    struct LoginLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "login-link",
            abstract:
                "A one-time link to the web UI for a user: it logs them in once within 24 hours, to set their password (your own, or another's with UserManage)."
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The username or id.") var user: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.createLoginLink(path: .init(user: user)) }) {
            case .created(let created):
                let link = try created.body.json
                if options.output == .json { return print(try Output.json(link)) }
                print("A login link for \(link.user) (works once, until \(Output.time(link.expiresAt))):\n  \(link.url)")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract:
                "Set a user's password (12 characters or more): your own (with your current one), or another's with UserManage.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The username or id.") var user: String
        @Flag(
            name: .customLong("password-stdin"),
            help: "Read the new password from standard input (for your own, two lines: the current one, then the new).")
        var passwordStdin = false
        @Flag(name: .customLong("current"), help: "Ask for your current password too (changing your own).")
        var askCurrent = false

        func run() async throws {
            var current: String?
            var password: String
            if passwordStdin {
                let lines = try SecretPrompt.readFromStandardInput(name: "password").split(
                    separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
                (current, password) = lines.count == 2 ? (String(lines[0]), String(lines[1])) : (nil, String(lines[0]))
            } else {
                if askCurrent { current = try SecretPrompt.prompt("current password", flag: "--password-stdin") }
                password = try SecretPrompt.prompt("new password for \(user)", flag: "--password-stdin")
            }
            let client = try options.connect()
            switch try await client.call({
                try await $0.setUserPassword(
                    path: .init(user: user), body: .json(.init(password: password, currentPassword: current)))
            }) {
            case .noContent: print(options.output == .json ? "{}" : "Set the password of '\(user)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user, or a service account for CI.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The username.") var username: String
        @Option(name: .customLong("display-name"), help: "How the user is shown (default: the username).")
        var displayName: String?
        @Option(help: "The user's email address.") var email: String?
        @Flag(name: .customLong("service-account"), help: "A service account: no password, API keys only.")
        var serviceAccount = false

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.createUser(
                    body: .json(
                        .init(username: username, displayName: displayName, email: email, serviceAccount: serviceAccount)))
            }
            switch output {
            case .created(let created): print(try AccessPrinter.users([try created.body.json], options.output, single: true))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users and service accounts.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listUsers() }) {
            case .ok(let ok): print(try AccessPrinter.users(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user and their teams.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The username or id.") var user: String

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.getUser(path: .init(user: user)) }) {
            case .ok(let ok): print(try AccessPrinter.users([try ok.body.json], options.output, single: true))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: their keys stop working at once (the last System administrator stays).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The username or id.") var user: String

        func run() async throws { try await UserCommand.setDisabled(user, true, options) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The username or id.") var user: String

        func run() async throws { try await UserCommand.setDisabled(user, false, options) }
    }

    static func setDisabled(_ user: String, _ disabled: Bool, _ options: ClientOptions) async throws {
        let client = try options.connect()
        switch try await client.call({ try await $0.updateUser(path: .init(user: user), body: .json(.init(disabled: disabled))) })
        {
        case .ok(let ok): print(try AccessPrinter.users([try ok.body.json], options.output, single: true))
        case .default(let status, let error): throw BerthClient.failure(status, error)
        }
    }
}

/// `berth team …`: teams, their members, and the roles granted to them.
struct TeamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team", abstract: "Create teams, add and remove members, grant and revoke roles (TeamManage).",
        subcommands: [Create.self, List.self, Show.self, AddMember.self, RemoveMember.self, Grant.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a team.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The team's name.") var name: String
        @Option(help: "What the team is for.") var description: String?

        func run() async throws {
            try await TeamCommand.show(options) {
                switch try await $0.createTeam(body: .json(.init(name: name, description: description))) {
                case .created(let created): try created.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the teams with their members and grants.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listTeams() }) {
            case .ok(let ok): print(try AccessPrinter.teams(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a team, its members and its grants.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The team's name or id.") var team: String

        func run() async throws {
            try await TeamCommand.show(options) {
                switch try await $0.getTeam(path: .init(team: team)) {
                case .ok(let ok): try ok.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-member", abstract: "Add a user to a team.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The team's name or id.") var team: String
        @Argument(help: "The username or id.") var user: String

        func run() async throws {
            try await TeamCommand.show(options) {
                switch try await $0.addTeamMember(path: .init(team: team), body: .json(.init(user: user))) {
                case .ok(let ok): try ok.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-member", abstract: "Take a user out of a team.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The team's name or id.") var team: String
        @Argument(help: "The username or id.") var user: String

        func run() async throws {
            try await TeamCommand.show(options) {
                switch try await $0.removeTeamMember(path: .init(team: team, user: user)) {
                case .ok(let ok): try ok.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a team a role in a space (or every space), optionally limited to projects and environments.",
            discussion:
                "berth team grant developers Deployer --space default --environment Development --environment Staging")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The team's name or id.") var team: String
        @Argument(help: "The role's name or id (berth role list).") var role: String
        @Flag(
            name: .customLong("every-space"),
            help: "Give the role in every space (System administrator needs this for its server permissions) instead of --space.")
        var everySpace = false
        @Option(name: .customLong("project"), help: "Limit the grant to this project (repeatable).") var projects: [String] = []
        @Option(name: .customLong("environment"), help: "Limit the grant to this environment (repeatable).")
        var environments: [String] = []

        func run() async throws {
            try await TeamCommand.show(options) {
                switch try await $0.grantRole(
                    path: .init(team: team),
                    body: .json(
                        .init(
                            role: role, space: everySpace ? nil : options.space, projects: projects,
                            environments: environments)))
                {
                case .ok(let ok): try ok.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a grant from a team (its id: berth team show).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The team's name or id.") var team: String
        @Argument(help: "The grant's id.") var grant: String

        func run() async throws {
            try await TeamCommand.show(options) {
                switch try await $0.revokeGrant(path: .init(team: team, grant: grant)) {
                case .ok(let ok): try ok.body.json
                case .default(let status, let error): throw BerthClient.failure(status, error)
                }
            }
        }
    }

    /// Calls the API and prints the team it answers with.
    static func show(_ options: ClientOptions, _ call: @Sendable (Client) async throws -> Components.Schemas.Team)
        async throws
    {
        let client = try options.connect()
        let team = try await client.call(call)
        print(try AccessPrinter.teams([team], options.output, single: true))
    }
}

/// `berth role …`: the built-in and custom roles.
struct RoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "role", abstract: "List roles and their permissions; create custom roles (TeamManage).",
        subcommands: [List.self, Create.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the built-in and custom roles.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            switch try await client.call({ try await $0.listRoles() }) {
            case .ok(let ok): print(try AccessPrinter.roles(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a custom role from permissions.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The role's name.") var name: String
        @Option(name: .customLong("permission"), help: "A permission the role holds (repeatable), e.g. ProjectView.")
        var permissions: [String] = []
        @Option(help: "What the role is for.") var description: String?

        func validate() throws {
            guard !permissions.isEmpty else { throw ValidationError("Name at least one --permission.") }
            for permission in permissions where Components.Schemas.Permission(rawValue: permission) == nil {
                let known = Components.Schemas.Permission.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--permission '\(permission)' is not a permission (known: \(known)).")
            }
        }

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.createRole(
                    body: .json(
                        .init(
                            name: name, description: description,
                            permissions: permissions.compactMap(Components.Schemas.Permission.init(rawValue:)))))
            }
            switch output {
            case .created(let created): print(try AccessPrinter.roles([try created.body.json], options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }
}

/// `berth whoami`: the caller as the server sees them.
struct BerthWhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show who the server takes you for: your user, your teams and what you may do where.")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let client = try options.connect()
        switch try await client.call({ try await $0.getWhoAmI() }) {
        case .ok(let ok):
            let me = try ok.body.json
            if options.output == .json { return print(try Output.json(me)) }
            print(
                "\(me.user.username) (\(me.user.displayName)), key '\(me.keyName)'; teams: \(me.user.teams.joined(separator: ", "))"
            )
            print("server: \(me.serverPermissions.map(\.rawValue).joined(separator: ", ").nonEmpty ?? "(none)")")
            for space in me.spaces {
                print("space \(space.space): \(space.permissions.map(\.rawValue).joined(separator: ", "))")
            }
        case .default(let status, let error): throw BerthClient.failure(status, error)
        }
    }
}

enum AccessPrinter {
    static func users(_ users: [Components.Schemas.User], _ format: OutputFormat, single: Bool = false) throws -> String {
        switch format {
        case .json: return try single ? Output.json(users[0]) : Output.json(users)
        case .table:
            return Output.table(
                ["USERNAME", "NAME", "KIND", "STATUS", "TEAMS", "ID"],
                users.map {
                    [
                        $0.username, $0.displayName, $0.kind.rawValue, $0.disabled ? "disabled" : "active",
                        $0.teams.joined(separator: ", "), $0.id,
                    ]
                })
        }
    }

    static func teams(_ teams: [Components.Schemas.Team], _ format: OutputFormat, single: Bool = false) throws -> String {
        switch format {
        case .json: return try single ? Output.json(teams[0]) : Output.json(teams)
        case .table:
            return teams.map { team in
                let grants = team.grants.map { grant in
                    var scope = grant.space.map { "in \($0)" } ?? "in every space"
                    if !grant.projects.isEmpty { scope += ", projects \(grant.projects.joined(separator: ", "))" }
                    if !grant.environments.isEmpty { scope += ", environments \(grant.environments.joined(separator: ", "))" }
                    return "  \(grant.role) \(scope) (grant \(grant.id))"
                }
                return (["\(team.name): \(team.members.joined(separator: ", ").nonEmpty ?? "no members")"] + grants)
                    .joined(separator: "\n")
            }.joined(separator: "\n")
        }
    }

    static func roles(_ roles: [Components.Schemas.Role], _ format: OutputFormat) throws -> String {
        switch format {
        case .json: return try Output.json(roles)
        case .table:
            return Output.table(
                ["ROLE", "KIND", "PERMISSIONS"],
                roles.map {
                    [$0.name, $0.builtIn ? "built-in" : "custom", $0.permissions.map(\.rawValue).joined(separator: ", ")]
                })
        }
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
