import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
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
        for user in try await useCases.listUsers(by: try requester()) { items.append(try await userSchema(user)) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the user as JSON.") }
        let user = try await useCases.createUser(
            username: body.username, displayName: body.displayName, email: body.email,
            serviceAccount: body.serviceAccount == true, by: try requester())
        return .created(.init(body: .json(try await userSchema(user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        .ok(.init(body: .json(try await userSchema(try await useCases.user(input.path.user, by: try requester())))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        let user = try await useCases.updateUser(
            input.path.user, displayName: body.displayName, email: body.email, disabled: body.disabled, by: try requester())
        return .ok(.init(body: .json(try await userSchema(user))))
    }

    func listTeams(_ input: Operations.ListTeams.Input) async throws -> Operations.ListTeams.Output {
        var items: [Components.Schemas.Team] = []
        for team in try await useCases.listTeams(by: try requester()) { items.append(try await teamSchema(team)) }
        return .ok(.init(body: .json(.init(items: items))))
    }

    func createTeam(_ input: Operations.CreateTeam.Input) async throws -> Operations.CreateTeam.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the team as JSON.") }
        let team = try await useCases.createTeam(name: body.name, description: body.description ?? "", by: try requester())
        return .created(.init(body: .json(try await teamSchema(team))))
    }

    func getTeam(_ input: Operations.GetTeam.Input) async throws -> Operations.GetTeam.Output {
        .ok(.init(body: .json(try await teamSchema(try await useCases.team(input.path.team, by: try requester())))))
    }

    func addTeamMember(_ input: Operations.AddTeamMember.Input) async throws -> Operations.AddTeamMember.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the member as JSON.") }
        let team = try await useCases.addTeamMember(body.user, team: input.path.team, by: try requester())
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func removeTeamMember(_ input: Operations.RemoveTeamMember.Input) async throws -> Operations.RemoveTeamMember.Output {
        let team = try await useCases.removeTeamMember(input.path.user, team: input.path.team, by: try requester())
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func grantRole(_ input: Operations.GrantRole.Input) async throws -> Operations.GrantRole.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the grant as JSON.") }
        let team = try await useCases.grantRole(
            UseCases.GrantInput(
                role: body.role, space: body.space, projects: body.projects ?? [], environments: body.environments ?? []),
            team: input.path.team, by: try requester())
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func revokeGrant(_ input: Operations.RevokeGrant.Input) async throws -> Operations.RevokeGrant.Output {
        let team = try await useCases.revokeGrant(input.path.grant, team: input.path.team, by: try requester())
        return .ok(.init(body: .json(try await teamSchema(team))))
    }

    func listRoles(_ input: Operations.ListRoles.Input) async throws -> Operations.ListRoles.Output {
        .ok(.init(body: .json(.init(items: try await useCases.listRoles().map(Self.roleSchema)))))
    }

    func createRole(_ input: Operations.CreateRole.Input) async throws -> Operations.CreateRole.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the role as JSON.") }
        let role = try await useCases.createRole(
            name: body.name, description: body.description ?? "",
            permissions: Set(body.permissions.compactMap { Permission(rawValue: $0.rawValue) }), by: try requester())
        return .created(.init(body: .json(Self.roleSchema(role))))
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
                let names = try await environmentNames(spaceID: spaceID)
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
