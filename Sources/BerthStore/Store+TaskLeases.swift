import BerthDomain
import Foundation
import SQLKit

/// A task a node holds, as its lease renewal sees it.
public struct HeldTask: Sendable, Hashable {
    public var id: String
    /// Someone asked for the task to be cancelled (through any node).
    public var cancelRequested: Bool

    public init(id: String, cancelRequested: Bool) {
        self.id = id
        self.cancelRequested = cancelRequested
    }
}

/// What becomes of a task whose node is gone.
public enum AbandonedTaskFate: Sendable, Hashable {
    /// Another node (or the same one, restarted) holds it now and carries on.
    case adopted
    /// Its node handed it over as it shut down; another node (or its restart) carries on.
    case handedOver
    /// Its node died under it too often already: the adopting node gives it up and fails it
    /// (after cleaning up what it can, such as one-off ECS tasks an earlier run started).
    case failed
}

/// A task a node adopted: it carries on from what was recorded, or — its fate ``AbandonedTaskFate/failed`` — gives it up.
public struct AdoptedTask: Sendable {
    public var task: ServerTask
    public var fate: AbandonedTaskFate
    /// The node that held it before.
    public var previousNode: String?
    /// The number of the task's last log line (the one that says who took it over).
    public var lastLogSequence: Int
}

extension BerthStore {
    /// Claims up to `limit` queued tasks, oldest first, for `owner`: each moves to executing with
    /// `owner` recorded and a lease until `leaseUntil`. One statement, which PostgreSQL runs with
    /// `FOR UPDATE SKIP LOCKED` (concurrent claimers pass over each other's rows instead of waiting)
    /// and SQLite under its single writer: of any number of claimers on any number of nodes, exactly
    /// one gets each task. A draining node (``setDraining(node:_:)``) claims nothing.
    public func claimTasks(for owner: TaskOwner, limit: Int, at now: Date, leaseUntil: Date) async throws -> [ServerTask] {
        guard limit > 0 else { return [] }
        let next: SQLQueryString = """
            SELECT id FROM tasks WHERE state = 'queued' \
            AND NOT EXISTS (SELECT 1 FROM nodes WHERE name = \(bind: owner.node) AND draining = 1) \
            ORDER BY created_at, id LIMIT \(bind: Int64(limit))
            """
        let claim: SQLQueryString = """
            UPDATE tasks SET state = 'executing', started_at = \(bind: now.unixMilliseconds), \
            owner_node = \(bind: owner.node), owner_instance = \(bind: owner.instance), \
            lease_expires_at = \(bind: leaseUntil.unixMilliseconds)
            """
        // PostgreSQL may run an `IN (… LIMIT n)` subquery more than once in one statement (and so
        // claim more than n): a CTE runs once. SQLite runs the subquery once.
        let statement: SQLQueryString =
            database.dialect == .postgres
            ? "WITH next AS (\(next) FOR UPDATE SKIP LOCKED) \(claim) FROM next WHERE tasks.id = next.id RETURNING tasks.*"
            : "\(claim) WHERE id IN (\(next)) AND state = 'queued' RETURNING *"
        let rows = try await database.transaction { db in try await db.raw(statement).all() }
        return try rows.map(Self.task).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Extends to `until` the leases of the tasks `ids` that `owner` still holds, and says which
    /// those are and whether someone asked to cancel them. Only the tasks the node still works on
    /// are renewed: one it gave up on (its outcome could not be written) runs out and is taken over.
    /// A task of `ids` missing from the answer was taken over or ended: the owner must stop
    /// working on it.
    public func renewLeases(of owner: TaskOwner, ids: [String], until: Date) async throws -> [HeldTask] {
        guard !ids.isEmpty else { return [] }
        var statement: SQLQueryString = """
            UPDATE tasks SET lease_expires_at = \(bind: until.unixMilliseconds) \
            WHERE owner_instance = \(bind: owner.instance) AND state = 'executing' AND id IN (
            """
        for (index, id) in ids.enumerated() { statement += index == 0 ? "\(bind: id)" : ", \(bind: id)" }
        statement += ") RETURNING id, cancel_requested_at"
        let renewal = statement
        return try await database.transaction { db in
            try await db.raw(renewal).all().map { row in
                HeldTask(
                    id: try row.string("id"),
                    cancelRequested: try row.decode(column: "cancel_requested_at", as: Int64?.self) != nil)
            }
        }
    }

    /// Gives a claimed task that never started back to the queue (a node shutting down), for any
    /// node to claim.
    public func releaseClaim(taskID: String, owner: TaskOwner) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                UPDATE tasks SET state = 'queued', started_at = NULL, owner_node = NULL, owner_instance = NULL, \
                lease_expires_at = NULL WHERE id = \(bind: taskID) AND owner_instance = \(bind: owner.instance) \
                AND state = 'executing'
                """
            ).run()
        }
    }

    /// Gives up `owner`'s lease of an executing task at once (a node shutting down), writing `line`
    /// to its log: any node adopts it at its next look, as one handed over (which does not count
    /// towards the `maximumAdoptions` of ``adoptAbandonedTasks(by:limit:at:leaseUntil:maximumAdoptions:note:)``).
    /// From then on `owner` holds it no more: a late renewal, log line or finish of its is refused.
    /// - Returns: false when `owner` did not hold it.
    public func handOverTask(id: String, owner: TaskOwner, at time: Date, line: TaskLogLine) async throws -> Bool {
        try await database.transaction { db in
            let handed = try await db.raw(
                """
                UPDATE tasks SET lease_expires_at = \(bind: Self.handedOverLease), owner_instance = NULL WHERE id = \(bind: id) \
                AND owner_instance = \(bind: owner.instance) AND state = 'executing' RETURNING id
                """
            ).first()
            guard handed != nil else { return false }
            try await Self.insert(line, taskID: id, db)
            return true
        }
    }

    /// The lease expiry that marks a task handed over by a node that shut down (long expired).
    static let handedOverLease: Int64 = 0

    /// The tasks `owner` holds that someone asked to cancel.
    public func cancelRequests(of owner: TaskOwner) async throws -> [String] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT id FROM tasks WHERE owner_instance = \(bind: owner.instance) AND state = 'executing' \
                AND cancel_requested_at IS NOT NULL
                """
            ).all().map { try $0.string("id") }
        }
    }

    /// Cancels a queued task at once; for an executing one, records the request for the node that
    /// holds it. One conditional statement each, so a task that starts or ends meanwhile is
    /// answered as it really is.
    public func requestCancel(taskID: String, at time: Date) async throws -> CancelResult {
        try await database.transaction { db in
            let cancelled = try await db.raw(
                """
                UPDATE tasks SET state = 'cancelled', completed_at = \(bind: time.unixMilliseconds), \
                error_message = 'Cancelled before it started.' WHERE id = \(bind: taskID) AND state = 'queued' RETURNING id
                """
            ).first()
            if cancelled != nil { return .cancelled }
            let requested = try await db.raw(
                """
                UPDATE tasks SET cancel_requested_at = COALESCE(cancel_requested_at, \(bind: time.unixMilliseconds)) \
                WHERE id = \(bind: taskID) AND state = 'executing' RETURNING owner_node
                """
            ).first()
            if let requested { return .requested(node: try requested.optionalString("owner_node") ?? "an unknown node") }
            guard let row = try await db.raw("SELECT state FROM tasks WHERE id = \(bind: taskID)").first(),
                let state = ServerTask.State(rawValue: try row.string("state"))
            else { throw BerthError.notFound("task", taskID) }
            // Nothing changed: no event.
            AuditTrail.pending?.discard()
            return .alreadyFinished(state)
        }
    }

    /// Adopts up to `limit` executing tasks whose holder is gone — their lease ran out, or `owner`'s
    /// node left them in an earlier run of its process (a restart): each becomes `owner`'s, with a
    /// lease until `leaseUntil`, and its log says who took it over (`note(previousNode, .adopted)`).
    /// The new holder runs it again from what it recorded (``StepProgress``). A task adopted
    /// `maximumAdoptions` times already after its node died is adopted to be failed (fate
    /// `.failed`, `note(previousNode, .failed)`): a task that takes every node down with it must not
    /// go round the cluster for ever; the adopting node cleans up and records the failure. A
    /// handover (``handOverTask(id:owner:at:line:)``) does not count. A draining node adopts only
    /// what its own previous run left.
    public func adoptAbandonedTasks(
        by owner: TaskOwner, limit: Int, at now: Date, leaseUntil: Date, maximumAdoptions: Int = 3,
        note: @Sendable (_ previousNode: String?, _ fate: AbandonedTaskFate) -> String
    ) async throws -> [AdoptedTask] {
        guard limit > 0 else { return [] }
        let abandoned: SQLQueryString = """
            SELECT id, owner_node, adoptions, lease_expires_at FROM tasks WHERE state = 'executing' AND (lease_expires_at IS NULL \
            OR lease_expires_at < \(bind: now.unixMilliseconds) \
            OR (owner_node = \(bind: owner.node) AND owner_instance <> \(bind: owner.instance))) \
            AND (owner_node = \(bind: owner.node) \
            OR NOT EXISTS (SELECT 1 FROM nodes WHERE name = \(bind: owner.node) AND draining = 1))
            """
        // Every node asks every second and almost always finds nothing: a plain read first, so
        // that the answer "nothing" costs no write transaction (on SQLite, no write lock).
        let any = try await database.withConnection { db in try await db.raw("\(abandoned) LIMIT 1").first() != nil }
        guard any else { return [] }
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await database.transaction { db in
            let rows = try await db.raw(
                "\(abandoned) ORDER BY created_at, id LIMIT \(bind: Int64(limit))\(unsafeRaw: skipLocked)"
            )
            .all()
            var adopted: [AdoptedTask] = []
            for row in rows {
                let id = try row.string("id")
                let previous = try row.optionalString("owner_node")
                let handedOver = try row.decode(column: "lease_expires_at", as: Int64?.self) == Self.handedOverLease
                let fate: AbandonedTaskFate =
                    handedOver ? .handedOver : try row.int("adoptions") >= maximumAdoptions ? .failed : .adopted
                let message = note(previous, fate)
                let last = try await db.raw("SELECT MAX(sequence) AS last FROM task_log WHERE task_id = \(bind: id)").first()
                let sequence = (try last?.decode(column: "last", as: Int64?.self) ?? 0) + 1
                try await Self.insert(
                    TaskLogLine(sequence: Int(sequence), time: now, level: fate == .failed ? .error : .warning, message: message),
                    taskID: id, db)
                guard
                    let taken = try await db.raw(
                        """
                        UPDATE tasks SET owner_node = \(bind: owner.node), owner_instance = \(bind: owner.instance), \
                        lease_expires_at = \(bind: leaseUntil.unixMilliseconds), \
                        adoptions = adoptions + \(bind: Int64(fate == .adopted ? 1 : 0)) \
                        WHERE id = \(bind: id) RETURNING *
                        """
                    ).first()
                else { continue }
                adopted.append(
                    AdoptedTask(
                        task: try Self.task(taken), fate: fate, previousNode: previous, lastLogSequence: Int(sequence)))
            }
            return adopted
        }
    }
}
