import BerthDomain
import Foundation
import SQLKit

/// Users, teams, custom roles and the grants of roles to teams: what a caller may do.
extension BerthStore {
    /// Dates the administrator and the Administrators team that the migration made, once.
    public func dateFirstRecords(at time: Date) async throws {
        try await database.transaction { db in
            try await db.raw(
                "UPDATE users SET created_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: User.administratorID) AND created_at = 0"
            ).run()
            try await db.raw(
                "UPDATE teams SET created_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: Team.administratorsID) AND created_at = 0"
            ).run()
        }
    }

    public func user(id: String) async throws -> User? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM users WHERE id = \(bind: id)").first().map(Self.user)
        }
    }

    public func createUser(_ user: User) async throws -> User {
        try await database.transaction { db in
            if try await db.raw("SELECT id FROM users WHERE username = \(bind: user.username)").first() != nil {
                throw BerthError(.conflict, "A user named '\(user.username)' already exists.")
            }
            try await db.raw(
                """
                INSERT INTO users (id, username, display_name, email, kind, disabled, created_at) VALUES \
                (\(bind: user.id), \(bind: user.username), \(bind: user.displayName), \(bind: user.email), \
                \(bind: user.kind.rawValue), \(bind: user.isDisabled ? 1 : 0), \(bind: user.createdAt.unixMilliseconds))
                """
            ).run()
            return user
        }
    }

    public func setUserDisabled(id: String, _ disabled: Bool) async throws {
        try await database.transaction { db in
            let rows = try await db.raw(
                "UPDATE users SET disabled = \(bind: disabled ? 1 : 0) WHERE id = \(bind: id) RETURNING id"
            ).all()
            guard !rows.isEmpty else { throw BerthError.notFound("user", id) }
        }
    }

    public func createTeam(_ team: Team) async throws -> Team {
        try await database.transaction { db in
            let slug = Slug.make(team.name)
            if try await db.raw("SELECT id FROM teams WHERE slug = \(bind: slug)").first() != nil {
                throw BerthError(.conflict, "A team named '\(team.name)' already exists.")
            }
            try await db.raw(
                """
                INSERT INTO teams (id, name, slug, description, created_at) VALUES \
                (\(bind: team.id), \(bind: team.name), \(bind: slug), \(bind: team.description), \
                \(bind: team.createdAt.unixMilliseconds))
                """
            ).run()
            return team
        }
    }

    public func addTeamMember(teamID: String, userID: String) async throws {
        try await database.transaction { db in
            if try await db.raw(
                "SELECT 1 AS member FROM team_members WHERE team_id = \(bind: teamID) AND user_id = \(bind: userID)"
            ).first() != nil {
                return
            }
            try await db.raw("INSERT INTO team_members (team_id, user_id) VALUES (\(bind: teamID), \(bind: userID))").run()
        }
    }

    /// Stores a custom role. - Throws: conflict for the name of a built-in or stored role.
    public func createRole(_ role: Role, at time: Date) async throws -> Role {
        try await database.transaction { db in
            let slug = Slug.make(role.name)
            let stored = try await db.raw("SELECT id FROM roles WHERE slug = \(bind: slug)").first()
            if Role.builtIn.contains(where: { Slug.make($0.name) == slug }) || stored != nil {
                throw BerthError(.conflict, "A role named '\(role.name)' already exists.")
            }
            try await db.raw(
                """
                INSERT INTO roles (id, name, slug, description, permissions, created_at) VALUES \
                (\(bind: role.id), \(bind: role.name), \(bind: slug), \(bind: role.description), \
                \(bind: role.permissions.sorted().map(\.rawValue).joined(separator: ",")), \(bind: time.unixMilliseconds))
                """
            ).run()
            return role
        }
    }

    public func grant(_ grant: AccessGrant, at time: Date) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO access_grants (id, team_id, role_id, space_id, project_ids, environment_ids, created_at) VALUES \
                (\(bind: grant.id), \(bind: grant.teamID), \(bind: grant.roleID), \(bind: grant.spaceID), \
                \(bind: Self.idList(grant.projectIDs)), \(bind: Self.idList(grant.environmentIDs)), \
                \(bind: time.unixMilliseconds))
                """
            ).run()
        }
    }

    /// What `userID` may do: the grants of every team they belong to, with the built-in and
    /// custom roles those grants name.
    public func accessPolicy(userID: String) async throws -> AccessPolicy {
        try await database.withConnection { db in
            let grants = try await db.raw(
                """
                SELECT access_grants.* FROM access_grants JOIN team_members ON team_members.team_id = access_grants.team_id \
                WHERE team_members.user_id = \(bind: userID)
                """
            ).all().map(Self.grant)
            let custom = try await db.raw("SELECT * FROM roles").all().map(Self.role)
            return AccessPolicy(grants: grants, roles: Role.builtIn + custom)
        }
    }

    public func listUsers() async throws -> [User] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM users ORDER BY username").all().map(Self.user)
        }
    }

    /// The user with this id or username.
    public func user(_ reference: String) async throws -> User {
        try await database.withConnection { db in
            guard
                let user = try await db.raw(
                    "SELECT * FROM users WHERE id = \(bind: reference) OR username = \(bind: reference)"
                ).first().map(Self.user)
            else { throw BerthError.notFound("user", reference) }
            return user
        }
    }

    /// Stores a user's display name, email and whether they are disabled. - Throws: conflict when
    /// that would leave no active System administrator.
    public func updateUser(_ user: User) async throws {
        try await database.transaction { db in
            try await Self.lockAdministrators(db, database.dialect)
            try await db.raw(
                """
                UPDATE users SET display_name = \(bind: user.displayName), email = \(bind: user.email), \
                disabled = \(bind: user.isDisabled ? 1 : 0) WHERE id = \(bind: user.id)
                """
            ).run()
            try await Self.requireAnAdministrator(db, "disabling \(user.username)")
        }
    }

    /// The names of the teams `userID` belongs to.
    public func teamNames(userID: String) async throws -> [String] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT teams.name FROM teams JOIN team_members ON team_members.team_id = teams.id \
                WHERE team_members.user_id = \(bind: userID) ORDER BY teams.name
                """
            ).all().map { try $0.string("name") }
        }
    }

    public func listTeams() async throws -> [Team] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM teams ORDER BY name").all().map(Self.team)
        }
    }

    /// The team with this id or name.
    public func team(_ reference: String) async throws -> Team {
        try await database.withConnection { db in
            guard
                let team = try await db.raw(
                    "SELECT * FROM teams WHERE id = \(bind: reference) OR slug = \(bind: Slug.make(reference))"
                ).first().map(Self.team)
            else { throw BerthError.notFound("team", reference) }
            return team
        }
    }

    /// A team's members (by username) and grants.
    public func teamContents(teamID: String) async throws -> (members: [User], grants: [AccessGrant]) {
        try await database.withConnection { db in
            let members = try await db.raw(
                """
                SELECT users.* FROM users JOIN team_members ON team_members.user_id = users.id \
                WHERE team_members.team_id = \(bind: teamID) ORDER BY users.username
                """
            ).all().map(Self.user)
            let grants = try await db.raw(
                "SELECT * FROM access_grants WHERE team_id = \(bind: teamID) ORDER BY created_at, id"
            ).all().map(Self.grant)
            return (members, grants)
        }
    }

    /// - Throws: conflict when that would leave no active System administrator.
    public func removeTeamMember(teamID: String, userID: String) async throws {
        try await database.transaction { db in
            try await Self.lockAdministrators(db, database.dialect)
            try await db.raw("DELETE FROM team_members WHERE team_id = \(bind: teamID) AND user_id = \(bind: userID)").run()
            try await Self.requireAnAdministrator(db, "taking this member out of the team")
        }
    }

    /// - Throws: not found for a grant of another team; conflict when that would leave no active
    ///   System administrator.
    public func revokeGrant(id: String, teamID: String) async throws {
        try await database.transaction { db in
            try await Self.lockAdministrators(db, database.dialect)
            let rows = try await db.raw(
                "DELETE FROM access_grants WHERE id = \(bind: id) AND team_id = \(bind: teamID) RETURNING id"
            ).all()
            guard !rows.isEmpty else { throw BerthError.notFound("grant", id) }
            try await Self.requireAnAdministrator(db, "taking this grant from the team")
        }
    }

    /// The custom roles.
    public func listRoles() async throws -> [Role] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM roles ORDER BY name").all().map(Self.role)
        }
    }

    /// Someone must always be able to manage users: at least one active user in a team granted
    /// System administrator for every space without limits. `berth server reset-admin-key` is the
    /// recovery when every key is lost; this keeps a change from locking everyone out.
    /// PostgreSQL: changes that may take away an administrator wait for each other, so that two
    /// at once cannot each leave the other as the last one and both go through.
    static func lockAdministrators(_ db: any SQLDatabase, _ dialect: Database.Dialect) async throws {
        if dialect == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(4242006)").run() }
    }

    static func requireAnAdministrator(_ db: any SQLDatabase, _ change: String) async throws {
        guard try await administratorsWithAWayIn(db) > 0 else {
            throw BerthError(
                .conflict,
                "Refused \(change): it would leave no active System administrator with a way in (a key that does not expire, or a password), and nobody could manage users, teams or keys again."
            )
        }
    }

    /// Active System administrators (in every space, without limits) who can still get in: with
    /// a password, or a key that neither expires nor is narrowed.
    static func administratorsWithAWayIn(_ db: any SQLDatabase) async throws -> Int {
        try await db.raw(
            """
            SELECT COUNT(*) AS count FROM users JOIN team_members ON team_members.user_id = users.id \
            JOIN access_grants ON access_grants.team_id = team_members.team_id \
            WHERE users.disabled = 0 AND access_grants.role_id = \(bind: Role.systemAdministrator.id) \
            AND access_grants.space_id IS NULL AND access_grants.project_ids = '' AND access_grants.environment_ids = '' \
            AND (users.password_hash IS NOT NULL OR EXISTS (SELECT 1 FROM api_keys WHERE api_keys.user_id = users.id \
            AND api_keys.revoked_at IS NULL AND api_keys.expires_at IS NULL AND api_keys.limit_role_id IS NULL))
            """
        ).first()?.int("count") ?? 0
    }

    static func team(_ row: any SQLRow) throws -> Team {
        Team(
            id: try row.string("id"), name: try row.string("name"), description: try row.string("description"),
            createdAt: try row.date("created_at"))
    }

    /// Stores a user's password hash (bcrypt), or removes it.
    public func setPasswordHash(userID: String, _ hash: String?) async throws {
        try await database.transaction { db in
            let rows = try await db.raw(
                "UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: userID) RETURNING id"
            ).all()
            guard !rows.isEmpty else { throw BerthError.notFound("user", userID) }
        }
    }

    /// The user named `username` and their password hash, when they have one.
    public func passwordHash(username: String) async throws -> (user: User, hash: String?)? {
        try await database.withConnection { db in
            guard let row = try await db.raw("SELECT * FROM users WHERE username = \(bind: username)").first() else {
                return nil
            }
            return (try Self.user(row), try row.optionalString("password_hash"))
        }
    }

    /// Starts a login attempt: counts it as failed for each subject (a username, an address) —
    /// before the password is checked, so that guesses sent at once all count — unless a subject
    /// has `limit` failures within `window` already. One transaction (PostgreSQL: attempts wait for
    /// each other), so the count and the new failure cannot be overtaken.
    /// - Returns: the attempt (to forget once it succeeds), or the subject refused and when its
    ///   oldest failure ages out.
    public func beginLoginAttempt(
        subjects: [(subject: String, limit: Int)], at time: Date, window: TimeInterval
    ) async throws -> Result<String, LoginRefusal> {
        let dialect = database.dialect
        return try await database.transaction { db in
            if dialect == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(4242007)").run() }
            let since = time.addingTimeInterval(-window).unixMilliseconds
            try await db.raw("DELETE FROM login_failures WHERE failed_at < \(bind: since)").run()
            for (subject, limit) in subjects {
                let row = try await db.raw(
                    """
                    SELECT COUNT(*) AS count, MIN(failed_at) AS oldest FROM login_failures \
                    WHERE subject = \(bind: subject) AND failed_at >= \(bind: since)
                    """
                ).first()
                if try row?.int("count") ?? 0 >= limit {
                    let oldest = try row?.optionalDate("oldest") ?? time
                    return .failure(LoginRefusal(subject: subject, until: oldest.addingTimeInterval(window)))
                }
            }
            let attempt = UUID().uuidString
            for (subject, _) in subjects {
                try await db.raw(
                    """
                    INSERT INTO login_failures (attempt, subject, failed_at) \
                    VALUES (\(bind: attempt), \(bind: subject), \(bind: time.unixMilliseconds))
                    """
                ).run()
            }
            return .success(attempt)
        }
    }

    /// Forgets an attempt that succeeded: it was counted as failed until the password was checked.
    public func forgetLoginAttempt(_ attempt: String) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM login_failures WHERE attempt = \(bind: attempt)").run()
        }
    }

    static func user(_ row: any SQLRow) throws -> User {
        User(
            id: try row.string("id"), username: try row.string("username"), displayName: try row.string("display_name"),
            email: try row.optionalString("email"), kind: User.Kind(rawValue: try row.string("kind")) ?? .person,
            isDisabled: try row.int("disabled") != 0, createdAt: try row.date("created_at"))
    }

    static func grant(_ row: any SQLRow) throws -> AccessGrant {
        AccessGrant(
            id: try row.string("id"), teamID: try row.string("team_id"), roleID: try row.string("role_id"),
            spaceID: try row.optionalString("space_id"), projectIDs: idSet(try row.string("project_ids")),
            environmentIDs: idSet(try row.string("environment_ids")))
    }

    static func role(_ row: any SQLRow) throws -> Role {
        Role(
            id: try row.string("id"), name: try row.string("name"), description: try row.string("description"),
            permissions: Set(try row.string("permissions").split(separator: ",").compactMap { Permission(rawValue: String($0)) }))
    }

    /// Ids as stored in one column: comma-separated (ids never hold a comma), sorted.
    static func idList(_ ids: Set<String>) -> String { ids.sorted().joined(separator: ",") }
    static func idSet(_ text: String) -> Set<String> { Set(text.split(separator: ",").map(String.init)) }
}

/// Logins refused for a while: too many failed for `subject` until `until`.
public struct LoginRefusal: Error, Sendable {
    public var subject: String
    public var until: Date
}
