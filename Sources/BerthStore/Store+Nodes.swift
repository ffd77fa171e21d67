import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Records a node's heartbeat: who it is, when it was last seen, how busy it is. The node's
    /// draining flag is kept as it is (an operator sets it) and returned.
    public func recordHeartbeat(
        _ node: ClusterNode, instance: String
    ) async throws -> Bool {
        try await database.transaction { db in
            let row = try await db.raw(
                """
                INSERT INTO nodes (name, instance, host, version, started_at, last_seen_at, running, task_cap, draining) VALUES \
                (\(bind: node.name), \(bind: instance), \(bind: node.host), \(bind: node.version), \
                \(bind: node.startedAt.unixMilliseconds), \(bind: node.lastSeenAt.unixMilliseconds), \
                \(bind: Int64(node.running)), \(bind: Int64(node.taskCap)), 0) \
                ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, host = excluded.host, \
                version = excluded.version, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at, \
                running = excluded.running, task_cap = excluded.task_cap RETURNING draining
                """
            ).first()
            return try row?.decode(column: "draining", as: Int64.self) == 1
        }
    }

    /// The database server's clock (PostgreSQL; SQLite runs on this machine and has no other).
    /// Leases written by one node are read by another, so nodes' clocks must agree with it.
    public func databaseTime() async throws -> Date? {
        guard database.dialect == .postgres else { return nil }
        return try await database.withConnection { db in
            try await db.raw("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT AS now").first()
                .map { Date(unixMilliseconds: try $0.decode(column: "now", as: Int64.self)) }
        }
    }

    /// The run (instance) of the node `name` that sent the last heartbeat, and when.
    public func lastHeartbeat(of name: String) async throws -> (instance: String, at: Date)? {
        try await database.withConnection { db in
            guard let row = try await db.raw("SELECT instance, last_seen_at FROM nodes WHERE name = \(bind: name)").first()
            else { return nil }
            return (try row.string("instance"), try row.date("last_seen_at"))
        }
    }

    /// Every node that has ever sent a heartbeat, by name.
    public func listNodes() async throws -> [ClusterNode] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM nodes ORDER BY name").all().map(Self.node)
        }
    }

    /// Whether the node `name` is draining (false for a node without a heartbeat yet).
    public func isDraining(node name: String) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw("SELECT draining FROM nodes WHERE name = \(bind: name)").first()?
                .decode(column: "draining", as: Int64.self) == 1
        }
    }

    /// Drains a node (it finishes its tasks and claims no new ones) or lets it claim again.
    /// - Throws: not found when no node has that name.
    public func setDraining(node name: String, _ draining: Bool) async throws -> ClusterNode {
        try await database.transaction { db in
            guard
                let row = try await db.raw(
                    "UPDATE nodes SET draining = \(bind: Int64(draining ? 1 : 0)) WHERE name = \(bind: name) RETURNING *"
                ).first()
            else { throw BerthError.notFound("node", name) }
            return try Self.node(row)
        }
    }

    /// Whether this node runs the cluster-wide job `name` now: true for exactly one caller per
    /// `interval`, whichever node asks first once the interval has passed since the last run. The
    /// first ask ever only starts the clock (a new cluster runs its first round one interval later),
    /// unless `firstRunDue`: then the first ask runs it.
    public func claimDueRun(
        of name: String, every interval: Duration, node: String, at now: Date, firstRunDue: Bool = false
    ) async throws -> Bool {
        let (seconds, attoseconds) = interval.components
        let due = now.addingTimeInterval(-(Double(seconds) + Double(attoseconds) / 1e18))
        return try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO cluster_jobs (name, last_run_at, node) VALUES \
                (\(bind: name), \(bind: firstRunDue ? 0 : now.unixMilliseconds), \(bind: node)) ON CONFLICT (name) DO NOTHING
                """
            ).run()
            return try await db.raw(
                """
                UPDATE cluster_jobs SET last_run_at = \(bind: now.unixMilliseconds), node = \(bind: node) \
                WHERE name = \(bind: name) AND last_run_at <= \(bind: due.unixMilliseconds) RETURNING name
                """
            ).first() != nil
        }
    }

    static func node(_ row: any SQLRow) throws -> ClusterNode {
        ClusterNode(
            name: try row.string("name"), host: try row.string("host"), version: try row.string("version"),
            startedAt: try row.date("started_at"), lastSeenAt: try row.date("last_seen_at"), running: try row.int("running"),
            taskCap: try row.int("task_cap"), draining: try row.decode(column: "draining", as: Int64.self) == 1)
    }
}
