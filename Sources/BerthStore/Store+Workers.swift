import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Makes `token` the pool's registration token: any earlier one is revoked in the same
    /// transaction, so a pool has at most one.
    public func replaceRegistrationToken(_ token: WorkerRegistrationToken) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE worker_registration_tokens SET revoked_at = \(bind: token.createdAt.unixMilliseconds) \
                WHERE pool_id = \(bind: token.poolID) AND revoked_at IS NULL
                """
            ).run()
            try await db.raw(
                """
                INSERT INTO worker_registration_tokens (id, pool_id, prefix, hash, created_at) VALUES \
                (\(bind: token.id), \(bind: token.poolID), \(bind: token.prefix), \(bind: token.hash), \
                \(bind: token.createdAt.unixMilliseconds))
                """
            ).run()
        }
    }

    /// Revokes the pool's registration token. - Returns: whether there was one.
    public func revokeRegistrationToken(poolID: String, at time: Date) async throws -> Bool {
        try await database.transaction { db in
            let rows = try await db.raw(
                """
                UPDATE worker_registration_tokens SET revoked_at = \(bind: time.unixMilliseconds) \
                WHERE pool_id = \(bind: poolID) AND revoked_at IS NULL RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    /// The pool's active registration token, if any.
    public func registrationToken(poolID: String) async throws -> WorkerRegistrationToken? {
        try await database.withConnection { db in
            try await db.raw(
                "SELECT * FROM worker_registration_tokens WHERE pool_id = \(bind: poolID) AND revoked_at IS NULL"
            ).first().map(Self.registrationToken)
        }
    }

    /// Registers a worker with the registration token whose hash is `tokenHash`, into that token's
    /// pool. - Throws: unauthorized for an unknown or revoked token (without saying which), conflict
    /// for a name the pool already has.
    public func registerWorker(
        tokenHash: String, poolReference: String, name: String, credentialHash: String, version: String, at time: Date
    ) async throws -> (worker: Worker, pool: WorkerPool) {
        try await database.transaction { db in
            guard
                let token = try await db.raw(
                    "SELECT * FROM worker_registration_tokens WHERE hash = \(bind: tokenHash) AND revoked_at IS NULL"
                ).first().map(Self.registrationToken),
                let pool = try await db.raw("SELECT * FROM worker_pools WHERE id = \(bind: token.poolID)").first()
                    .map(Self.workerPool)
            else {
                throw BerthError(
                    .unauthorized,
                    "The registration token is not valid: it is unknown or has been revoked. Make a new one with `berth worker-pool token POOL`."
                )
            }
            guard pool.id == poolReference || pool.slug == Slug.make(poolReference) else {
                throw BerthError(
                    .unauthorized,
                    "The registration token is not valid for the pool '\(poolReference)': it belongs to another pool.")
            }
            let worker = Worker(poolID: pool.id, name: name, version: version, registeredAt: time, lastContactAt: time)
            if try await db.raw(
                "SELECT id FROM workers WHERE pool_id = \(bind: pool.id) AND slug = \(bind: worker.slug)"
            ).first() != nil {
                throw BerthError(
                    .conflict,
                    "The pool '\(pool.name)' already has a worker named '\(name)'; delete it first (berth worker delete \(name)) or choose another name."
                )
            }
            try await db.raw(
                """
                INSERT INTO workers (id, pool_id, name, slug, credential_hash, version, registered_at, last_contact_at) \
                VALUES (\(bind: worker.id), \(bind: pool.id), \(bind: worker.name), \(bind: worker.slug), \
                \(bind: credentialHash), \(bind: version), \(bind: time.unixMilliseconds), \(bind: time.unixMilliseconds))
                """
            ).run()
            return (worker, pool)
        }
    }

    /// Registers (or registers again) `node`'s built-in worker with a new credential, in the
    /// default space's default pool; the jobs its earlier process held are taken from it at once
    /// (that process is gone: the nodes following them give them to another worker).
    public func registerBuiltInWorker(node: String, credentialHash: String, version: String, at time: Date) async throws
        -> Worker
    {
        try await database.transaction { db in
            guard
                let poolID = try await db.raw(
                    """
                    SELECT worker_pools.id FROM worker_pools JOIN spaces ON spaces.id = worker_pools.space_id \
                    WHERE worker_pools.is_default = 1 AND spaces.slug = \(bind: Slug.make(Space.defaultName))
                    """
                ).first()?.string("id")
            else { throw BerthError(.internalError, "The default space has no default worker pool.") }
            let name = Worker.builtInName(node: node)
            if let existing = try await db.raw("SELECT * FROM workers WHERE built_in_node = \(bind: node)").first()
                .map(Self.worker)
            {
                try await db.raw(
                    """
                    UPDATE workers SET credential_hash = \(bind: credentialHash), version = \(bind: version), \
                    registered_at = \(bind: time.unixMilliseconds), last_contact_at = \(bind: time.unixMilliseconds) \
                    WHERE id = \(bind: existing.id)
                    """
                ).run()
                try await db.raw(
                    """
                    UPDATE step_jobs SET lease_expires_at = \(bind: time.unixMilliseconds - 1) \
                    WHERE worker_id = \(bind: existing.id) AND state = 'running'
                    """
                ).run()
                return Worker(
                    id: existing.id, poolID: existing.poolID, name: existing.name, version: version, registeredAt: time,
                    lastContactAt: time, builtInNode: node)
            }
            let worker = Worker(
                poolID: poolID, name: name, version: version, registeredAt: time, lastContactAt: time, builtInNode: node)
            if try await db.raw("SELECT id FROM workers WHERE pool_id = \(bind: poolID) AND slug = \(bind: worker.slug)")
                .first() != nil
            {
                throw BerthError(
                    .conflict,
                    "The default pool has an external worker named '\(name)', the name of this node's built-in worker; delete it (berth worker delete \(name)) or give the node another name (--node-name)."
                )
            }
            try await db.raw(
                """
                INSERT INTO workers (id, pool_id, name, slug, credential_hash, version, registered_at, last_contact_at, \
                built_in_node) VALUES (\(bind: worker.id), \(bind: poolID), \(bind: name), \(bind: worker.slug), \
                \(bind: credentialHash), \(bind: version), \(bind: time.unixMilliseconds), \(bind: time.unixMilliseconds), \
                \(bind: node))
                """
            ).run()
            return worker
        }
    }

    /// The worker whose credential hashes to `credentialHash`.
    public func worker(credentialHash: String) async throws -> Worker? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM workers WHERE credential_hash = \(bind: credentialHash)").first().map(Self.worker)
        }
    }

    /// Notes that the worker was heard from (and its version).
    public func touchWorker(id: String, version: String?, at time: Date) async throws {
        try await database.transaction { db in
            if let version {
                try await db.raw(
                    """
                    UPDATE workers SET last_contact_at = \(bind: time.unixMilliseconds), version = \(bind: version) \
                    WHERE id = \(bind: id)
                    """
                ).run()
            } else {
                try await db.raw("UPDATE workers SET last_contact_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: id)")
                    .run()
            }
        }
    }

    /// The workers of a space's pools, by pool and name, with how many jobs each holds.
    public func listWorkers(spaceID: String) async throws -> [(worker: Worker, runningJobs: Int)] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT workers.*, (SELECT COUNT(*) FROM step_jobs WHERE step_jobs.worker_id = workers.id \
                AND step_jobs.state = 'running') AS running_jobs \
                FROM workers JOIN worker_pools ON worker_pools.id = workers.pool_id \
                WHERE worker_pools.space_id = \(bind: spaceID) ORDER BY worker_pools.name, workers.name
                """
            ).all().map { (try Self.worker($0), try $0.int("running_jobs")) }
        }
    }

    /// Deletes a worker: its credential stops working at once, and the jobs it held are taken
    /// from it (the nodes following them give them to another worker of the pool).
    public func deleteWorker(id: String, at time: Date) async throws {
        try await database.transaction { db in
            let rows = try await db.raw("DELETE FROM workers WHERE id = \(bind: id) RETURNING id").all()
            guard !rows.isEmpty else { throw BerthError.notFound("worker", id) }
            try await db.raw(
                """
                UPDATE step_jobs SET lease_expires_at = \(bind: time.unixMilliseconds - 1) \
                WHERE worker_id = \(bind: id) AND state = 'running'
                """
            ).run()
        }
    }

    static func worker(_ row: any SQLRow) throws -> Worker {
        Worker(
            id: try row.string("id"), poolID: try row.string("pool_id"), name: try row.string("name"),
            version: try row.string("version"), registeredAt: try row.date("registered_at"),
            lastContactAt: try row.optionalDate("last_contact_at"), builtInNode: try row.optionalString("built_in_node"))
    }

    static func registrationToken(_ row: any SQLRow) throws -> WorkerRegistrationToken {
        WorkerRegistrationToken(
            id: try row.string("id"), poolID: try row.string("pool_id"), prefix: try row.string("prefix"),
            hash: try row.string("hash"), createdAt: try row.date("created_at"), revokedAt: try row.optionalDate("revoked_at"))
    }
}
