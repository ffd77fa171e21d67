import BerthDomain
import BerthStore
import Foundation

/// Teams, their members, the roles granted to them, and custom roles. What a caller may give away
/// — a place in a team, a role — is at most what they hold themselves.
extension UseCases {
    /// A role granted within a space (nil: every space), optionally limited to projects and
    /// environments (names or ids).
    public struct GrantInput: Sendable {
        public var role: String
        public var space: String?
        public var projects: [String]
        public var environments: [String]

        public init(role: String, space: String? = nil, projects: [String] = [], environments: [String] = []) {
            self.role = role
            self.space = space
            self.projects = projects
            self.environments = environments
        }
    }

    public func listTeams(by requester: Requester) async throws -> [Team] {
        try requester.requireServer(.teamManage)
        return try await store.listTeams()
    }

    public func team(_ reference: String, by requester: Requester) async throws -> Team {
        try requester.requireServer(.teamManage)
        return try await store.team(reference)
    }

    public func createTeam(name: String, description: String, by requester: Requester) async throws -> Team {
        try requester.requireServer(.teamManage)
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        try errors.throwIfAny("team")
        let team = Team(name: name, description: description, createdAt: now())
        return try await audited("createTeam", before: nil, after: team, by: requester) {
            try await store.createTeam(team)
        }
    }

    /// Adds a user to a team: only by a requester who holds everything the team's roles give.
    public func addTeamMember(_ userReference: String, team reference: String, by requester: Requester) async throws -> Team {
        try requester.requireServer(.teamManage)
        let team = try await store.team(reference)
        let grants = try await store.teamContents(teamID: team.id).grants
        let policy = AccessPolicy(grants: grants, roles: Role.builtIn + (try await store.listRoles()))
        guard requester.caller.covers(policy) else {
            throw BerthError(
                .forbidden,
                "The user '\(requester.user.username)' may not add members to the team '\(team.name)': its roles give more than their own."
            )
        }
        let user = try await store.user(userReference)
        try await audited(
            "addTeamMember", record: team.auditReference, name: team.name,
            details: [("member", .string(user.username))], by: requester
        ) {
            try await store.addTeamMember(teamID: team.id, userID: user.id)
        }
        await accessChanged()
        return team
    }

    public func removeTeamMember(_ userReference: String, team reference: String, by requester: Requester) async throws
        -> Team
    {
        try requester.requireServer(.teamManage)
        let team = try await store.team(reference)
        let user = try await store.user(userReference)
        try await audited(
            "removeTeamMember", record: team.auditReference, name: team.name,
            details: [("member", .string(user.username))], by: requester
        ) {
            try await store.removeTeamMember(teamID: team.id, userID: user.id)
        }
        await accessChanged()
        return team
    }

    /// Grants a role to a team: only by a requester who holds the role's permissions as widely.
    public func grantRole(_ input: GrantInput, team reference: String, by requester: Requester) async throws -> Team {
        try requester.requireServer(.teamManage)
        let team = try await store.team(reference)
        let role = try await role(input.role, field: "role", for: "grant")
        var grant = AccessGrant(teamID: team.id, roleID: role.id, spaceID: nil)
        if let spaceReference = input.space?.nonBlank {
            let space = try await store.space(spaceReference)
            grant.spaceID = space.id
            grant.environmentIDs = Set(
                try await resolveEnvironments(input.environments, spaceID: space.id, field: "environments").map(\.id))
            var projects: Set<String> = []
            for project in input.projects { projects.insert(try await store.project(project, spaceID: space.id).id) }
            grant.projectIDs = projects
        } else if !input.projects.isEmpty || !input.environments.isEmpty {
            throw BerthError.invalid(
                "grant", [.init(field: "space", message: "limits to projects or environments need the space they are in")])
        }
        let entry = AccessPolicy.Entry(
            permissions: role.permissions, spaceID: grant.spaceID, projectIDs: grant.projectIDs,
            environmentIDs: grant.environmentIDs)
        guard requester.caller.covers(AccessPolicy(entries: [entry])) else {
            throw BerthError(
                .forbidden,
                "The user '\(requester.user.username)' may not grant \(role.name) there: it gives more than they hold themselves."
            )
        }
        try await audited(
            "grantRole", before: nil, after: grant, also: [("team", .string(team.name)), ("roleName", .string(role.name))],
            by: requester
        ) {
            try await store.grant(grant, at: now())
        }
        await accessChanged()
        return team
    }

    public func revokeGrant(_ id: String, team reference: String, by requester: Requester) async throws -> Team {
        try requester.requireServer(.teamManage)
        let team = try await store.team(reference)
        guard let grant = try await store.teamContents(teamID: team.id).grants.first(where: { $0.id == id }) else {
            throw BerthError.notFound("grant", id)
        }
        try await audited("revokeGrant", before: grant, after: nil, also: [("team", .string(team.name))], by: requester) {
            try await store.revokeGrant(id: grant.id, teamID: team.id)
        }
        await accessChanged()
        return team
    }

    /// Every role: the built-in ones, then the custom ones.
    public func listRoles() async throws -> [Role] {
        Role.builtIn + (try await store.listRoles())
    }

    public func createRole(name: String, description: String, permissions: Set<Permission>, by requester: Requester)
        async throws -> Role
    {
        try requester.requireServer(.teamManage)
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        try errors.throwIfAny("role")
        let role = Role(id: RecordID.make("role"), name: name, description: description, permissions: permissions)
        return try await audited("createRole", before: nil, after: role, by: requester) {
            try await store.createRole(role, at: now())
        }
    }
}
