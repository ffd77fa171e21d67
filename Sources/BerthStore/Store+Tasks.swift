import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Records queued tasks, all or none.
    public func createTasks(_ tasks: [ServerTask]) async throws {
        guard !tasks.isEmpty else { return }
        let dialect = database.dialect
        try await database.transaction { db in
            for task in tasks { try await Self.insertTask(task, db) }
            try await Self.announceQueuedTasks(db, dialect)
        }
    }

    /// The PostgreSQL channel on which new tasks wake every node (``listenForQueuedTasks(_:)``).
    static let tasksQueuedChannel = "berth_tasks_queued"

    /// Tells every listening node that tasks were queued; PostgreSQL delivers it when the
    /// transaction commits (and drops it when it rolls back).
    static func announceQueuedTasks(_ db: any SQLDatabase, _ dialect: Database.Dialect) async throws {
        guard dialect == .postgres else { return }
        try await db.raw("SELECT pg_notify(\(bind: tasksQueuedChannel), '')").run()
    }

    /// Calls `wake` whenever any node queues tasks (PostgreSQL `LISTEN`), until cancelled or the
    /// connection fails (throws). On SQLite, one node's own file, returns at once.
    public func listenForQueuedTasks(_ wake: @escaping @Sendable () -> Void) async throws {
        try await database.listen(on: Self.tasksQueuedChannel, wake)
    }

    static func insertTask(_ task: ServerTask, _ db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO tasks (id, space_id, kind, description, state, target_id, account_id, created_at, queued_by) \
            VALUES (\(bind: task.id), \(bind: task.spaceID), \(bind: task.kind.rawValue), \(bind: task.description), \
            \(bind: task.state.rawValue), \(bind: task.targetID), \(bind: task.accountID), \
            \(bind: task.createdAt.unixMilliseconds), \(bind: task.queuedBy))
            """
        ).run()
    }

    /// Cancels a task that is still queued. False when it is not queued (running, or finished).
    public func cancelQueuedTask(id: String, at time: Date) async throws -> Bool {
        try await database.transaction { db in
            let row = try await db.raw("SELECT state FROM tasks WHERE id = \(bind: id)").first()
            guard try row?.string("state") == ServerTask.State.queued.rawValue else { return false }
            try await db.raw(
                """
                UPDATE tasks SET state = 'cancelled', completed_at = \(bind: time.unixMilliseconds), \
                error_message = 'Cancelled before it started.' WHERE id = \(bind: id)
                """
            ).run()
            return true
        }
    }

    public func task(id: String) async throws -> ServerTask? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM tasks WHERE id = \(bind: id)").first().map(Self.task)
        }
    }

    /// The most recent tasks first; with `after`, those listed after that task.
    public func listTasks(state: ServerTask.State? = nil, limit: Int = 50, after: String? = nil) async throws -> [ServerTask] {
        try await database.withConnection { db in
            var query = SQLQueryString("SELECT * FROM tasks WHERE 1 = 1")
            if let state { query += " AND state = \(bind: state.rawValue)" }
            if let after {
                query += """
                     AND (created_at < (SELECT created_at FROM tasks WHERE id = \(bind: after)) \
                    OR (created_at = (SELECT created_at FROM tasks WHERE id = \(bind: after)) AND id > \(bind: after)))
                    """
            }
            query += " ORDER BY created_at DESC, id LIMIT \(bind: Int64(limit))"
            return try await db.raw(query).all().map(Self.task)
        }
    }

    /// Tasks still queued, oldest first (to resume after a restart).
    public func queuedTasks() async throws -> [ServerTask] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM tasks WHERE state = 'queued' ORDER BY created_at, id").all().map(Self.task)
        }
    }

    /// Moves a queued task to executing. False when it was not queued (cancelled, or taken).
    public func startTask(id: String, at time: Date) async throws -> Bool {
        try await database.transaction { db in
            let row = try await db.raw("SELECT state FROM tasks WHERE id = \(bind: id)").first()
            guard try row?.string("state") == ServerTask.State.queued.rawValue else { return false }
            try await db.raw(
                "UPDATE tasks SET state = 'executing', started_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: id)"
            ).run()
            return true
        }
    }

    public func appendLog(taskID: String, _ lines: [TaskLogLine]) async throws {
        try await appendLogs(lines.map { (taskID, $0) })
    }

    /// Lines of several tasks in one transaction. With `owner`, only the lines of tasks that
    /// `owner` still holds are stored: a node that lost a task's lease writes nothing more to its log.
    public func appendLogs(_ lines: [(taskID: String, line: TaskLogLine)], owner: TaskOwner? = nil) async throws {
        guard !lines.isEmpty else { return }
        let lock = database.dialect == .postgres ? " FOR SHARE" : ""
        try await database.transaction { db in
            var held: [String: Bool] = [:]
            for (taskID, line) in lines {
                if let owner {
                    // Read once per task, with a share lock on PostgreSQL: a node adopting the task
                    // (which locks its row for update) waits for these lines or skips the task until
                    // they are in, so its own lines never take their numbers.
                    if held[taskID] == nil {
                        held[taskID] =
                            try await db.raw(
                                """
                                SELECT id FROM tasks WHERE id = \(bind: taskID) AND owner_instance = \(bind: owner.instance) \
                                AND state = 'executing'\(unsafeRaw: lock)
                                """
                            ).first() != nil
                    }
                    guard held[taskID] == true else { continue }
                }
                // A line racing an adoption's note for its number loses quietly, instead of failing
                // the whole batch (the lines of every task of this node).
                try await Self.insert(line, taskID: taskID, db)
            }
        }
    }

    /// Inserts a log line, unless the task has a line of that number already (which stays).
    static func insert(_ line: TaskLogLine, taskID: String, _ db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO task_log (task_id, sequence, time, level, message, section) VALUES \
            (\(bind: taskID), \(bind: Int64(line.sequence)), \(bind: line.time.unixMilliseconds), \
            \(bind: line.level.rawValue), \(bind: line.message), \(bind: line.section)) \
            ON CONFLICT (task_id, sequence) DO NOTHING
            """
        ).run()
    }

    /// Lines with a sequence number greater than `after`.
    public func taskLog(taskID: String, after: Int = 0) async throws -> [TaskLogLine] {
        try await taskLog(taskID: taskID, after: after, limit: nil).lines
    }

    /// At most `limit` lines with a sequence number greater than `after`, and whether more follow.
    public func taskLog(taskID: String, after: Int = 0, limit: Int?) async throws -> (lines: [TaskLogLine], hasMore: Bool) {
        let fetch = limit.map { Int64($0) + 1 } ?? Int64.max
        let lines = try await database.withConnection { db in
            try await db.raw(
                "SELECT * FROM task_log WHERE task_id = \(bind: taskID) AND sequence > \(bind: Int64(after)) ORDER BY sequence LIMIT \(bind: fetch)"
            ).all().map { row in
                TaskLogLine(
                    sequence: try row.int("sequence"), time: try row.date("time"),
                    level: LogLevel(rawValue: try row.string("level")) ?? .info, message: try row.string("message"),
                    section: try row.optionalString("section"))
            }
        }
        guard let limit, lines.count > limit else { return (lines, false) }
        return (Array(lines.prefix(limit)), true)
    }

    /// Ends a task that is executing: its outcome, its last log lines and, for a health check, the
    /// target's health — in one transaction, so a reader never sees a finished task without its
    /// result. A task that is not executing (already finished, failed by a restart, never started)
    /// is left as it is: a finished task stays finished.
    /// With `owner`, only while `owner` holds the task's lease: a node whose lease ran out (and
    /// whose task another node took over) cannot overwrite the outcome.
    /// - Returns: false when the task was not executing (or not `owner`'s), and nothing was written.
    @discardableResult
    public func finishTask(
        id: String, outcome: TaskOutcome, at time: Date, owner: TaskOwner? = nil, lastLines: [TaskLogLine] = [],
        targetHealth: (String, TargetHealth)? = nil
    ) async throws -> Bool {
        try await database.transaction { db in
            // One conditional statement: of two finishers, on any node, exactly one sees its row.
            var statement: SQLQueryString = """
                UPDATE tasks SET state = \(bind: outcome.state.rawValue), completed_at = \(bind: time.unixMilliseconds), \
                error_message = \(bind: outcome.errorMessage), identity_arn = \(bind: outcome.identityARN), \
                health_status = \(bind: outcome.healthStatus?.rawValue), lease_expires_at = NULL \
                WHERE id = \(bind: id) AND state = 'executing'
                """
            if let owner { statement += " AND owner_instance = \(bind: owner.instance)" }
            statement += " RETURNING id"
            let finished = try await db.raw(statement).first()
            guard finished != nil else {
                AuditTrail.pending?.discard()
                return false
            }
            // A line whose number was taken (by a node's note when it adopted the task) gives way:
            // the outcome itself must be recorded.
            for line in lastLines { try await Self.insert(line, taskID: id, db) }
            // A job still waiting for a worker is no one's any more; one a worker has hears at its
            // next renewal that its task is over.
            try await db.raw(
                """
                UPDATE step_jobs SET state = 'abandoned', finished_at = \(bind: time.unixMilliseconds) \
                WHERE task_id = \(bind: id) AND state = 'queued'
                """
            ).run()
            if let (targetID, health) = targetHealth {
                try await db.raw(
                    """
                    UPDATE targets SET health_status = \(bind: health.status.rawValue), health_message = \(bind: health.message), \
                    health_checked_at = \(bind: health.checkedAt.unixMilliseconds), health_task_id = \(bind: health.taskID) \
                    WHERE id = \(bind: targetID)
                    """
                ).run()
                try await Self.bumpRevision(ofSpaceOf: "targets", id: targetID, db)
            }
            return true
        }
    }

    static func task(_ row: any SQLRow) throws -> ServerTask {
        let id = try row.string("id")
        guard let kind = ServerTask.Kind(rawValue: try row.string("kind")),
            let state = ServerTask.State(rawValue: try row.string("state"))
        else { throw BerthError(.internalError, "The task \(id) has an unknown kind or state in the database.") }
        var task = ServerTask(
            id: id, spaceID: try row.string("space_id"), kind: kind, description: try row.string("description"), state: state,
            targetID: try row.optionalString("target_id"), accountID: try row.optionalString("account_id"),
            createdAt: try row.date("created_at"), startedAt: try row.optionalDate("started_at"),
            completedAt: try row.optionalDate("completed_at"), errorMessage: try row.optionalString("error_message"),
            identityARN: try row.optionalString("identity_arn"),
            healthStatus: try row.optionalString("health_status").flatMap(HealthStatus.init(rawValue:)),
            ownerNode: try row.optionalString("owner_node"), queuedBy: try row.optionalString("queued_by"))
        task.cancelRequested = try row.decode(column: "cancel_requested_at", as: Int64?.self) != nil
        return task
    }
}
