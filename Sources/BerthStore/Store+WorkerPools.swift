import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    public func listWorkerPools(spaceID: String) async throws -> [WorkerPool] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM worker_pools WHERE space_id = \(bind: spaceID) ORDER BY is_default DESC, name")
                .all().map(Self.workerPool)
        }
    }

    public func findWorkerPool(_ reference: String, spaceID: String) async throws -> WorkerPool? {
        let (id, slug) = referenceClause(reference)
        return try await database.withConnection { db in
            try await db.raw(
                "SELECT * FROM worker_pools WHERE space_id = \(bind: spaceID) AND (id = \(bind: id) OR slug = \(bind: slug))"
            ).first().map(Self.workerPool)
        }
    }

    public func defaultWorkerPool(spaceID: String) async throws -> WorkerPool {
        let pool = try await database.withConnection { db in
            try await db.raw("SELECT * FROM worker_pools WHERE space_id = \(bind: spaceID) AND is_default = 1").first()
                .map(Self.workerPool)
        }
        guard let pool else { throw BerthError(.internalError, "The space \(spaceID) has no default worker pool.") }
        return pool
    }

    public func workerPool(id: String) async throws -> WorkerPool? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM worker_pools WHERE id = \(bind: id)").first().map(Self.workerPool)
        }
    }

    public func createWorkerPool(_ pool: WorkerPool) async throws -> WorkerPool {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a worker pool", name: pool.name)) { db in
            try await Self.ensureNameIsFree("worker_pools", kind: "a worker pool", name: pool.name, spaceID: pool.spaceID, db)
            try await Self.insert(pool, db)
            try await Self.bumpRevision(spaceID: pool.spaceID, db)
            return pool
        }
    }

    /// Deletes a pool unless it is the default or targets use it.
    public func deleteWorkerPool(id: String) async throws {
        try await database.transaction { db in
            guard let pool = try await db.raw("SELECT * FROM worker_pools WHERE id = \(bind: id)").first().map(Self.workerPool)
            else { throw BerthError.notFound("worker pool", id) }
            if pool.isDefault {
                throw BerthError(.conflict, "'\(pool.name)' is the space's default worker pool and cannot be deleted.")
            }
            let targets = try await db.raw("SELECT name FROM targets WHERE worker_pool_id = \(bind: id) ORDER BY name").all()
                .map { try $0.string("name") }
            guard targets.isEmpty else {
                throw BerthError(
                    .conflict,
                    "The worker pool '\(pool.name)' is used by the target\(targets.count == 1 ? "" : "s") "
                        + targets.map { "'\($0)'" }.joined(separator: ", ") + ".")
            }
            let workers = try await db.raw("SELECT name FROM workers WHERE pool_id = \(bind: id) ORDER BY name").all()
                .map { try $0.string("name") }
            guard workers.isEmpty else {
                throw BerthError(
                    .conflict,
                    "The worker pool '\(pool.name)' has the worker\(workers.count == 1 ? "" : "s") "
                        + workers.map { "'\($0)'" }.joined(separator: ", ") + "; delete them first (berth worker delete NAME).")
            }
            try await Self.bumpRevision(spaceID: pool.spaceID, db)
            try await db.raw("DELETE FROM worker_pools WHERE id = \(bind: id)").run()
        }
    }

    static func insert(_ pool: WorkerPool, _ db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO worker_pools (id, space_id, name, slug, is_default, created_at) VALUES \
            (\(bind: pool.id), \(bind: pool.spaceID), \(bind: pool.name), \(bind: pool.slug), \
            \(bind: Int64(pool.isDefault ? 1 : 0)), \(bind: pool.createdAt.unixMilliseconds))
            """
        ).run()
    }

    static func workerPool(_ row: any SQLRow) throws -> WorkerPool {
        let pool = WorkerPool(
            id: try row.string("id"), spaceID: try row.string("space_id"), name: try row.string("name"),
            isDefault: try row.int("is_default") != 0, createdAt: try row.date("created_at"))
        return pool
    }
}
