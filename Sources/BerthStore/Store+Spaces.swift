import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    public func listSpaces() async throws -> [Space] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM spaces ORDER BY created_at, name").all().map(Self.space)
        }
    }

    public func findSpace(_ reference: String) async throws -> Space? {
        let (id, slug) = referenceClause(reference)
        return try await database.withConnection { db in
            try await db.raw("SELECT * FROM spaces WHERE id = \(bind: id) OR slug = \(bind: slug)").first().map(Self.space)
        }
    }

    public func space(_ reference: String) async throws -> Space {
        guard let space = try await findSpace(reference) else { throw BerthError.notFound("space", reference) }
        return space
    }

    /// Creates the space and its default worker pool together.
    public func createSpace(_ space: Space) async throws -> Space {
        try await database.transaction(orIfDuplicate: Self.spaceExists(space.name)) { db in
            if try await db.raw("SELECT id FROM spaces WHERE slug = \(bind: space.slug)").first() != nil {
                throw Self.spaceExists(space.name)
            }
            try await db.raw(
                """
                INSERT INTO spaces (id, name, slug, created_at) VALUES \
                (\(bind: space.id), \(bind: space.name), \(bind: space.slug), \(bind: space.createdAt.unixMilliseconds))
                """
            ).run()
            try await db.raw("INSERT INTO space_revisions (space_id, revision) VALUES (\(bind: space.id), 0)").run()
            let pool = WorkerPool(spaceID: space.id, name: WorkerPool.defaultName, isDefault: true, createdAt: space.createdAt)
            try await Self.insert(pool, db)
            return space
        }
    }

    static func space(_ row: any SQLRow) throws -> Space {
        let space = Space(id: try row.string("id"), name: try row.string("name"), createdAt: try row.date("created_at"))
        return space
    }

    static func spaceExists(_ name: String) -> BerthError {
        BerthError(.conflict, "A space named '\(name)' already exists.")
    }
}
