import BerthDomain
import Foundation
import SQLKit

/// Lifecycles, and what a release has passed.
extension BerthStore {
    public func listLifecycles(spaceID: String) async throws -> [Lifecycle] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM lifecycles WHERE space_id = \(bind: spaceID) ORDER BY name").all().map(Self.lifecycle)
        }
    }

    /// The lifecycle with this id, or this name (by slug), in the space.
    public func findLifecycle(_ reference: String, spaceID: String) async throws -> Lifecycle? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT * FROM lifecycles WHERE space_id = \(bind: spaceID) \
                AND (id = \(bind: reference) OR slug = \(bind: Slug.make(reference)))
                """
            ).first().map(Self.lifecycle)
        }
    }

    public func lifecycle(id: String) async throws -> Lifecycle? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM lifecycles WHERE id = \(bind: id)").first().map(Self.lifecycle)
        }
    }

    public func createLifecycle(_ lifecycle: Lifecycle) async throws -> Lifecycle {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a lifecycle", name: lifecycle.name)) { db in
            try await Self.ensureNameIsFree(
                "lifecycles", kind: "a lifecycle", name: lifecycle.name, spaceID: lifecycle.spaceID, db)
            try await db.raw(
                """
                INSERT INTO lifecycles (id, space_id, name, slug, description, phases, created_at, updated_at) VALUES \
                (\(bind: lifecycle.id), \(bind: lifecycle.spaceID), \(bind: lifecycle.name), \(bind: lifecycle.slug), \
                \(bind: lifecycle.description), \(bind: jsonText(lifecycle.phases)), \
                \(bind: lifecycle.createdAt.unixMilliseconds), \(bind: lifecycle.updatedAt.unixMilliseconds))
                """
            ).run()
            return lifecycle
        }
    }

    public func updateLifecycle(_ lifecycle: Lifecycle) async throws -> Lifecycle {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a lifecycle", name: lifecycle.name)) { db in
            try await Self.ensureNameIsFree(
                "lifecycles", kind: "a lifecycle", name: lifecycle.name, spaceID: lifecycle.spaceID, excluding: lifecycle.id, db)
            let rows = try await db.raw(
                """
                UPDATE lifecycles SET name = \(bind: lifecycle.name), slug = \(bind: lifecycle.slug), \
                description = \(bind: lifecycle.description), phases = \(bind: jsonText(lifecycle.phases)), \
                updated_at = \(bind: lifecycle.updatedAt.unixMilliseconds) WHERE id = \(bind: lifecycle.id) RETURNING id
                """
            ).all()
            guard !rows.isEmpty else { throw BerthError.notFound("lifecycle", lifecycle.name) }
            return lifecycle
        }
    }

    /// The environments where `releaseID` has a successful deployment.
    public func succeededEnvironments(releaseID: String) async throws -> Set<String> {
        try await database.withConnection { db in
            Set(
                try await db.raw(
                    """
                    SELECT DISTINCT d.environment_id FROM deployments d JOIN tasks t ON t.id = d.task_id \
                    WHERE d.release_id = \(bind: releaseID) AND t.state = 'succeeded'
                    """
                ).all().map { try $0.string("environment_id") })
        }
    }

    static func lifecycle(_ row: any SQLRow) throws -> Lifecycle {
        Lifecycle(
            id: try row.string("id"), spaceID: try row.string("space_id"), name: try row.string("name"),
            description: try row.string("description"), phases: try row.json("phases", as: [Lifecycle.Phase].self),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
