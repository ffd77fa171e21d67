import BerthAPI
import BerthDomain
import BerthStore
import Foundation

/// Users, teams, roles and grants; and who the caller is. Every change forgets the cached callers:
/// rights change at once on this node (within the key cache's few seconds on the others).
extension APIService {
    func getWhoAmI(_ input: Operations.GetWhoAmI.Input) async throws -> Operations.GetWhoAmI.Output {
        let caller = try Access.caller()
        let spaces = try await store.listSpaces().compactMap { space -> Components.Schemas.SpacePermissions? in
            let held = caller.permissions(inSpace: space.id).filter { $0.level != .server }
            return held.isEmpty ? nil : .init(space: space.name, permissions: held.sorted().compactMap(Self.schema))
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        user: try await userSchema(caller.user), keyName: caller.keyName,
                        serverPermissions: Permission.allCases.filter { $0.level == .server && caller.may($0, at: .server) }
                            .compactMap(Self.schema),
                        spaces: spaces))))
    }

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        var items: [Components.Schemas.User] = []
        for user in try await store.listUsers() { items.append(try await userSchema(user)) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the user as JSON.") }
        var errors = ValidationErrors()
        NameRules.validate(body.username, field: "username", into: &errors)
        if let email = body.email, !email.isEmpty, !email.contains("@") {
            errors.add("email", "'\(email)' is not an email address")
        }
        try errors.throwIfAny("user")
        let user = try await store.createUser(
            User(
                username: body.username, displayName: body.displayName?.nonBlank ?? body.username,
                email: body.email?.nonBlank, kind: body.serviceAccount == true ? .serviceAccount : .person, createdAt: now()))
        return .created(.init(body: .json(try await userSchema(user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        .ok(.init(body: .json(try await userSchema(try await store.user(input.path.user)))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        var user = try await store.user(input.path.user)
        if let displayName = body.displayName { user.displayName = displayName }
        if let email = body.email { user.email = email.nonBlank }
        if let disabled = body.disabled { user.isDisabled = disabled }
        try await store.updateUser(user)
        await apiKeys.forgetAll()
        return .ok(.init(body: .json(try await userSchema(user))))
    }

    func listTeams(_ input: Operations.ListTeams.Input) async throws -> Operations.ListTeams.Output {
        var items: [Components.Schemas.Team] = []
        for team in try await store.listTeams() { items.append(try await teamSchema(team)) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func createTeam(_ input: Operations.CreateTeam.Input) async throws -> Operations.CreateTeam.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the team as JSON.") }
        var errors = ValidationErrors()
        NameRules.validate(body.name, into: &errors)
        try errors.throwIfAny("team")
        let team = try await store.createTeam(Team(name: body.name, description: body.description ?? "", createdAt: now()))
        return .created(.init(body: .json(try await teamSchema(team))))
    }

    func getTeam(_ input: Operations.GetTeam.Input) async throws -> Operations.GetTeam.Output {
        .ok(.init(body: .json(try await teamSchema(try await store.team(input.path.team)))))
    }

    func addTeamMember(_ input: Operations.AddTeamMember.Input) async throws -> Operations.AddTeamMember.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the member as JSON.") }
        let team = try await store.team(input.path.team)
        // Joining a team gives its grants: only to someone by a caller who holds them all.
        let grants = try await store.teamContents(teamID: team.id).grants
        let policy = AccessPolicy(grants: grants, roles: Role.builtIn + (try await store.listRoles()))
        let caller = try Access.caller()
        guard caller.covers(policy) else {
            throw BerthError(
                .forbidden,
                "The user '\(caller.user.username)' may not add members to the team '\(team.name)': its roles give more than their own."
            )
        }
        try await store.addTeamMember(teamID: team.id, userID: try await store.user(body.user).id)
        await apiKeys.forgetAll()
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func removeTeamMember(_ input: Operations.RemoveTeamMember.Input) async throws -> Operations.RemoveTeamMember.Output {
        let team = try await store.team(input.path.team)
        try await store.removeTeamMember(teamID: team.id, userID: try await store.user(input.path.user).id)
        await apiKeys.forgetAll()
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func grantRole(_ input: Operations.GrantRole.Input) async throws -> Operations.GrantRole.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the grant as JSON.") }
        let team = try await store.team(input.path.team)
        let roles = Role.builtIn + (try await store.listRoles())
        guard let role = roles.first(where: { $0.id == body.role || Slug.make($0.name) == Slug.make(body.role) }) else {
            let known = roles.map(\.name).joined(separator: ", ")
            throw BerthError.invalid(
                "grant", [.init(field: "role", message: "there is no role '\(body.role)' (known: \(known))")])
        }
        var grant = AccessGrant(teamID: team.id, roleID: role.id, spaceID: nil)
        if let reference = body.space?.nonBlank {
            let space = try await store.space(reference)
            grant.spaceID = space.id
            grant.environmentIDs = Set(
                try await resolveEnvironments(body.environments ?? [], spaceID: space.id, field: "environments").map(\.id))
            var projects: Set<String> = []
            for project in body.projects ?? [] { projects.insert(try await store.project(project, spaceID: space.id).id) }
            grant.projectIDs = projects
        } else if !(body.projects ?? []).isEmpty || !(body.environments ?? []).isEmpty {
            throw BerthError.invalid(
                "grant", [.init(field: "space", message: "limits to projects or environments need the space they are in")])
        }
        // A role is given only by a caller who holds it, as widely.
        let caller = try Access.caller()
        let entry = AccessPolicy.Entry(
            permissions: role.permissions, spaceID: grant.spaceID, projectIDs: grant.projectIDs,
            environmentIDs: grant.environmentIDs)
        guard caller.covers(AccessPolicy(entries: [entry])) else {
            throw BerthError(
                .forbidden,
                "The user '\(caller.user.username)' may not grant \(role.name) there: it gives more than they hold themselves.")
        }
        try await store.grant(grant, at: now())
        await apiKeys.forgetAll()
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func revokeGrant(_ input: Operations.RevokeGrant.Input) async throws -> Operations.RevokeGrant.Output {
        let team = try await store.team(input.path.team)
        try await store.revokeGrant(id: input.path.grant, teamID: team.id)
        await apiKeys.forgetAll()
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func listRoles(_ input: Operations.ListRoles.Input) async throws -> Operations.ListRoles.Output {
        .ok(.init(body: .json(.init(items: (Role.builtIn + (try await store.listRoles())).map(Self.roleSchema)))))
    }

    func createRole(_ input: Operations.CreateRole.Input) async throws -> Operations.CreateRole.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the role as JSON.") }
        var errors = ValidationErrors()
        NameRules.validate(body.name, into: &errors)
        try errors.throwIfAny("role")
        let role = try await store.createRole(
            Role(
                id: RecordID.make("role"), name: body.name, description: body.description ?? "",
                permissions: Set(body.permissions.compactMap { Permission(rawValue: $0.rawValue) })), at: now())
        return .created(.init(body: .json(Self.roleSchema(role))))
    }

    /// - Throws: 403 unless `caller` holds everything `user` may do: what a key of theirs, or
    ///   their password, would give.
    func requireCovers(_ caller: Caller, _ user: User, _ what: String) async throws {
        let policy = try await store.accessPolicy(userID: user.id)
        guard caller.covers(policy) else {
            throw BerthError(
                .forbidden,
                "The user '\(caller.user.username)' may not \(what) '\(user.username)', who may do more than they may.")
        }
    }

    // MARK: - Answers

    func userSchema(_ user: User) async throws -> Components.Schemas.User {
        Components.Schemas.User(
            id: user.id, username: user.username, displayName: user.displayName, email: user.email,
            kind: user.kind == .person ? .person : .serviceAccount, disabled: user.isDisabled, createdAt: user.createdAt,
            teams: try await store.teamNames(userID: user.id))
    }

    func teamSchema(_ team: Team) async throws -> Components.Schemas.Team {
        let (members, grants) = try await store.teamContents(teamID: team.id)
        let roles = Role.builtIn + (try await store.listRoles())
        var items: [Components.Schemas.Grant] = []
        for grant in grants {
            var space: Space?
            var projects: [String] = []
            var environments: [String] = []
            if let spaceID = grant.spaceID {
                space = try await store.findSpace(spaceID)
                let names = try await environmentNames(spaceID)
                environments = grant.environmentIDs.map { names[$0] ?? $0 }.sorted()
                for id in grant.projectIDs.sorted() { projects.append(try await store.project(id: id)?.name ?? id) }
            }
            items.append(
                .init(
                    id: grant.id, role: roles.first { $0.id == grant.roleID }?.name ?? grant.roleID, roleId: grant.roleID,
                    space: space?.name, projects: projects, environments: environments))
        }
        return Components.Schemas.Team(
            id: team.id, name: team.name, description: team.description, members: members.map(\.username), grants: items)
    }

    static func roleSchema(_ role: Role) -> Components.Schemas.Role {
        Components.Schemas.Role(
            id: role.id, name: role.name, description: role.description,
            permissions: role.permissions.sorted().compactMap(schema), builtIn: role.isBuiltIn)
    }

    static func schema(_ permission: Permission) -> Components.Schemas.Permission? {
        Components.Schemas.Permission(rawValue: permission.rawValue)
    }
}
