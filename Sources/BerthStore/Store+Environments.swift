import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    public func listEnvironments(spaceID: String) async throws -> [Environment] {
        try await database.withConnection { db in
            try await Self.environments(spaceID: spaceID, db)
        }
    }

    public func findEnvironment(_ reference: String, spaceID: String) async throws -> Environment? {
        let (id, slug) = referenceClause(reference)
        return try await database.withConnection { db in
            try await db.raw(
                "SELECT * FROM environments WHERE space_id = \(bind: spaceID) AND (id = \(bind: id) OR slug = \(bind: slug))"
            ).first().map(Self.environment)
        }
    }

    public func environment(_ reference: String, spaceID: String) async throws -> Environment {
        guard let environment = try await findEnvironment(reference, spaceID: spaceID) else {
            throw BerthError.notFound("environment", reference)
        }
        return environment
    }

    /// Inserts the environment at `position` (last when nil) and renumbers the others.
    public func createEnvironment(_ environment: Environment, position: Int?) async throws -> Environment {
        try await database.transaction { db in
            var all = try await Self.environments(spaceID: environment.spaceID, db)
            if all.contains(where: { $0.slug == environment.slug }) {
                throw BerthError(.conflict, "An environment named '\(environment.name)' already exists in this space.")
            }
            var created = environment
            created.sortOrder = min(max(position ?? all.count, 0), all.count)
            all.insert(created, at: created.sortOrder)
            try await db.raw(
                """
                INSERT INTO environments (id, space_id, name, slug, sort_order, created_at) VALUES \
                (\(bind: created.id), \(bind: created.spaceID), \(bind: created.name), \(bind: created.slug), \
                \(bind: Int64(created.sortOrder)), \(bind: created.createdAt.unixMilliseconds))
                """
            ).run()
            try await Self.renumber(all, db)
            try await Self.bumpRevision(spaceID: created.spaceID, db)
            return created
        }
    }

    /// Renames and/or moves an environment; the others shift to make room.
    public func updateEnvironment(id: String, spaceID: String, name: String?, position: Int?) async throws -> Environment {
        try await database.transaction { db in
            var all = try await Self.environments(spaceID: spaceID, db)
            guard let index = all.firstIndex(where: { $0.id == id }) else { throw BerthError.notFound("environment", id) }
            var environment = all.remove(at: index)
            if let name {
                let slug = Slug.make(name)
                if all.contains(where: { $0.slug == slug }) {
                    throw BerthError(.conflict, "An environment named '\(name)' already exists in this space.")
                }
                environment.name = name
                try await db.raw(
                    "UPDATE environments SET name = \(bind: name), slug = \(bind: slug) WHERE id = \(bind: id)"
                ).run()
            }
            let newIndex = min(max(position ?? index, 0), all.count)
            all.insert(environment, at: newIndex)
            try await Self.renumber(all, db)
            environment.sortOrder = newIndex
            try await Self.bumpRevision(spaceID: spaceID, db)
            return environment
        }
    }

    /// Deletes an environment unless accounts or targets still use it; the error names them.
    public func deleteEnvironment(id: String, spaceID: String) async throws {
        try await database.transaction { db in
            guard
                let environment = try await db.raw("SELECT * FROM environments WHERE id = \(bind: id)").first().map(
                    Self.environment)
            else { throw BerthError.notFound("environment", id) }
            let accounts = try await db.raw(
                """
                SELECT a.name FROM accounts a JOIN account_environments ae ON ae.account_id = a.id \
                WHERE ae.environment_id = \(bind: id) ORDER BY a.name
                """
            ).all().map { try $0.string("name") }
            let targets = try await db.raw(
                """
                SELECT t.name FROM targets t JOIN target_environments te ON te.target_id = t.id \
                WHERE te.environment_id = \(bind: id) ORDER BY t.name
                """
            ).all().map { try $0.string("name") }
            if !accounts.isEmpty || !targets.isEmpty {
                var users: [String] = []
                if !accounts.isEmpty {
                    users.append("account\(accounts.count == 1 ? "" : "s") " + accounts.map { "'\($0)'" }.joined(separator: ", "))
                }
                if !targets.isEmpty {
                    users.append("target\(targets.count == 1 ? "" : "s") " + targets.map { "'\($0)'" }.joined(separator: ", "))
                }
                throw BerthError(
                    .conflict,
                    "The environment '\(environment.name)' is still used by the \(users.joined(separator: " and the ")). Remove it from them first."
                )
            }
            try await db.raw("DELETE FROM environments WHERE id = \(bind: id)").run()
            let rest = try await Self.environments(spaceID: spaceID, db)
            try await Self.renumber(rest, db)
            try await Self.bumpRevision(spaceID: spaceID, db)
        }
    }

    static func environments(spaceID: String, _ db: any SQLDatabase) async throws -> [Environment] {
        try await db.raw("SELECT * FROM environments WHERE space_id = \(bind: spaceID) ORDER BY sort_order, name").all()
            .map(environment)
    }

    static func renumber(_ environments: [Environment], _ db: any SQLDatabase) async throws {
        for (index, environment) in environments.enumerated() where environment.sortOrder != index {
            try await db.raw("UPDATE environments SET sort_order = \(bind: Int64(index)) WHERE id = \(bind: environment.id)")
                .run()
        }
    }

    static func environment(_ row: any SQLRow) throws -> Environment {
        let environment = Environment(
            id: try row.string("id"), spaceID: try row.string("space_id"), name: try row.string("name"),
            sortOrder: try row.int("sort_order"), createdAt: try row.date("created_at"))
        return environment
    }
}
