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
        try await database.transaction(orIfDuplicate: Self.environmentExists(environment.name)) { db in
            var all = try await Self.environments(spaceID: environment.spaceID, db)
            if all.contains(where: { $0.slug == environment.slug }) {
                throw Self.environmentExists(environment.name)
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
        try await database.transaction(orIfDuplicate: Self.environmentExists(name ?? "")) { db in
            var all = try await Self.environments(spaceID: spaceID, db)
            guard let index = all.firstIndex(where: { $0.id == id }) else { throw BerthError.notFound("environment", id) }
            var environment = all.remove(at: index)
            if let name {
                let slug = Slug.make(name)
                if all.contains(where: { $0.slug == slug }) {
                    throw Self.environmentExists(name)
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

    /// Deletes an environment unless accounts, targets or deployments still refer to it; the error
    /// names them. Deployments keep their environment (the history must stay readable), so an
    /// environment that has been deployed to stays as long as those deployments do.
    public func deleteEnvironment(id: String, spaceID: String) async throws {
        let dialect = database.dialect
        try await database.transaction { db in
            // PostgreSQL: the row lock orders this delete with a concurrent insert that refers to
            // the environment (a deployment, a link): either the insert commits first and the
            // checks below see it, or it waits and then finds the environment gone — never a
            // delete that fails on a foreign key after the checks have passed.
            let lock = dialect == .postgres ? " FOR UPDATE" : ""
            guard
                let environment = try await db.raw("SELECT * FROM environments WHERE id = \(bind: id)\(unsafeRaw: lock)").first()
                    .map(
                        Self.environment)
            else { throw BerthError.notFound("environment", id) }
            let users = try await Self.environmentUsers(id, db)
            if !users.isEmpty {
                throw BerthError(
                    .conflict,
                    "The environment '\(environment.name)' is still used by the \(users.joined(separator: " and the ")). "
                        + "Remove it from them first; deployment history is kept, so an environment that was deployed to "
                        + "stays until those projects are deleted.")
            }
            try await db.raw("DELETE FROM environments WHERE id = \(bind: id)").run()
            let rest = try await Self.environments(spaceID: spaceID, db)
            try await Self.renumber(rest, db)
            try await Self.bumpRevision(spaceID: spaceID, db)
        }
    }

    /// What refers to an environment, in words: "account 'Prod keys'", "targets 'web-1', 'web-2'",
    /// "deployments of the project 'Shop' (3)".
    static func environmentUsers(_ id: String, _ db: any SQLDatabase) async throws -> [String] {
        func names(_ kind: String, _ names: [String]) -> String? {
            names.isEmpty ? nil : kind + (names.count == 1 ? "" : "s") + " " + names.map { "'\($0)'" }.joined(separator: ", ")
        }
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
        let deployments = try await db.raw(
            """
            SELECT p.name, COUNT(*) AS deployments FROM deployments d JOIN projects p ON p.id = d.project_id \
            WHERE d.environment_id = \(bind: id) GROUP BY p.name ORDER BY p.name
            """
        ).all().map { "'\(try $0.string("name"))' (\(try $0.int("deployments")))" }
        let history =
            deployments.isEmpty
            ? nil
            : "deployments of the project\(deployments.count == 1 ? "" : "s") \(deployments.joined(separator: ", "))"
        // Lifecycles keep their phases as JSON: a phase naming the environment holds it.
        let lifecycles = try await db.raw("SELECT name, phases FROM lifecycles ORDER BY name").all().compactMap { row in
            try row.json("phases", as: [Lifecycle.Phase].self).contains { $0.environmentIDs.contains(id) }
                ? try row.string("name") : nil
        }
        return [names("account", accounts), names("target", targets), history, names("lifecycle", lifecycles)].compactMap { $0 }
    }

    static func environmentExists(_ name: String) -> BerthError {
        BerthError(.conflict, "An environment named '\(name)' already exists in this space.")
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
