import BerthDomain
import Foundation
import SQLKit

/// Step jobs for external workers: queued by the node that holds the deployment, claimed by one
/// worker of the pool under a lease it renews, and ended by the outcome the worker reports. Every
/// write a worker makes names the worker: one that lost its lease (or was deleted) changes nothing.
extension BerthStore {
    public func enqueueStepJob(_ job: StepJobRecord) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO step_jobs (id, task_id, step_index, target_id, pool_id, state, job, created_at) VALUES \
                (\(bind: job.id), \(bind: job.taskID), \(bind: Int64(job.key.stepIndex)), \(bind: job.key.targetID ?? ""), \
                \(bind: job.poolID), \(bind: job.state.rawValue), \(bind: job.sealedJob), \(bind: job.createdAt.unixMilliseconds))
                """
            ).run()
        }
    }

    /// Gives the oldest queued job of `poolID` to `worker`, leased until `leaseUntil`; nil when the
    /// pool has none. Of any number of workers claiming at once, exactly one gets each job. A job
    /// whose deployment ended or is being cancelled is never handed out.
    public func claimStepJob(for worker: Worker, at now: Date, leaseUntil: Date) async throws -> StepJobRecord? {
        // A built-in worker takes the jobs of every space's default pool.
        let pools: SQLQueryString =
            worker.builtInNode == nil
            ? "pool_id = \(bind: worker.poolID)" : "pool_id IN (SELECT id FROM worker_pools WHERE is_default = 1)"
        let next: SQLQueryString = """
            SELECT id FROM step_jobs WHERE \(pools) AND state = 'queued' \
            AND EXISTS (SELECT 1 FROM tasks WHERE tasks.id = step_jobs.task_id AND tasks.state = 'executing' \
            AND tasks.cancel_requested_at IS NULL) ORDER BY created_at, id LIMIT 1
            """
        let claim: SQLQueryString = """
            UPDATE step_jobs SET state = 'running', worker_id = \(bind: worker.id), worker_name = \(bind: worker.name), \
            claimed_at = \(bind: now.unixMilliseconds), lease_expires_at = \(bind: leaseUntil.unixMilliseconds)
            """
        let statement: SQLQueryString =
            database.dialect == .postgres
            ? "WITH next AS (\(next) FOR UPDATE SKIP LOCKED) \(claim) FROM next WHERE step_jobs.id = next.id RETURNING step_jobs.*"
            : "\(claim) WHERE id IN (\(next)) AND state = 'queued' RETURNING *"
        // Idle workers ask every second: a read first, so that asking costs no write (on SQLite,
        // the one write lock) while there is nothing to hand out.
        let waiting = try await database.withConnection { db in
            try await db.raw(
                "SELECT id FROM step_jobs WHERE \(pools) AND state = 'queued' LIMIT 1"
            ).first()
        }
        guard waiting != nil else { return nil }
        return try await database.transaction { db in try await db.raw(statement).first() }.map(Self.stepJob)
    }

    /// Extends the lease of a job `workerID` holds. - Returns: whether a cancel was requested; nil
    /// when the worker no longer holds the job (it must stop working on it).
    public func renewStepJob(id: String, workerID: String, until: Date) async throws -> Bool? {
        try await database.transaction { db in
            try await Self.renew(id: id, workerID: workerID, until: until, db)
        }
    }

    /// Renews the lease; a cancel is requested when the job's own flag says so, or its task's
    /// (someone cancelled the deployment), or the task is no longer executing.
    static func renew(id: String, workerID: String, until: Date, _ db: any SQLDatabase) async throws -> Bool? {
        guard
            let job = try await db.raw(
                """
                UPDATE step_jobs SET lease_expires_at = \(bind: until.unixMilliseconds) \
                WHERE id = \(bind: id) AND worker_id = \(bind: workerID) AND state = 'running' \
                RETURNING task_id, cancel_requested
                """
            ).first()
        else { return nil }
        if try job.int("cancel_requested") != 0 { return true }
        let task = try await db.raw(
            "SELECT state, cancel_requested_at FROM tasks WHERE id = \(bind: try job.string("task_id"))"
        ).first()
        guard let task else { return true }
        return try task.string("state") != "executing" || task.optionalInt("cancel_requested_at") != nil
    }

    /// Adds log lines a worker sent for its job and renews its lease.
    /// - Returns: as ``renewStepJob(id:workerID:until:)``; nil, and nothing stored, for a job the
    ///   worker does not hold.
    public func appendStepJobLog(
        id: String, workerID: String, lines: [StepJobLogLine], leaseUntil: Date
    ) async throws -> Bool? {
        try await database.transaction { db in
            guard let cancel = try await Self.renew(id: id, workerID: workerID, until: leaseUntil, db) else { return nil }
            guard !lines.isEmpty else { return cancel }
            // Numbered by the job, not by the lines still stored: relayed lines are deleted, and
            // the next ones must still come after them.
            guard
                let numbered = try await db.raw(
                    """
                    UPDATE step_jobs SET last_log_sequence = last_log_sequence + \(bind: Int64(lines.count)) \
                    WHERE id = \(bind: id) RETURNING last_log_sequence
                    """
                ).first()
            else { return nil }
            let last = try numbered.int("last_log_sequence") - lines.count
            var statement: SQLQueryString = "INSERT INTO step_job_log (job_id, sequence, level, section, message) VALUES "
            for (offset, line) in lines.enumerated() {
                if offset > 0 { statement += ", " }
                statement +=
                    "(\(bind: id), \(bind: Int64(last + offset + 1)), \(bind: line.level.rawValue), \(bind: line.section), \(bind: line.message))"
            }
            try await db.raw(statement).run()
            return cancel
        }
    }

    /// The log lines of a job after `sequence`, oldest first, at most `limit`.
    public func stepJobLog(id: String, after sequence: Int, limit: Int = 500) async throws -> [(Int, StepJobLogLine)] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT sequence, level, section, message FROM step_job_log WHERE job_id = \(bind: id) \
                AND sequence > \(bind: Int64(sequence)) ORDER BY sequence LIMIT \(bind: Int64(limit))
                """
            ).all().map { row in
                (
                    try row.int("sequence"),
                    StepJobLogLine(
                        level: LogLevel(rawValue: try row.string("level")) ?? .info,
                        section: try row.optionalString("section"), message: try row.string("message"))
                )
            }
        }
    }

    /// Records a step's progress for the job `workerID` holds, as the node holding the task would
    /// (``recordStepProgress(_:at:taskID:owner:time:)``), naming the worker.
    /// - Returns: false when the worker no longer holds the job.
    public func recordStepProgress(
        _ progress: StepProgress, forJob id: String, workerID: String, leaseUntil: Date, time: Date
    ) async throws -> Bool {
        var stored = progress
        stored.recordedBy = nil
        stored.finished = nil
        let json = jsonText(stored)
        return try await database.transaction { db in
            guard try await Self.renew(id: id, workerID: workerID, until: leaseUntil, db) != nil,
                let row = try await db.raw(
                    "SELECT task_id, step_index, target_id, worker_name FROM step_jobs WHERE id = \(bind: id)"
                ).first()
            else { return false }
            let recorder = "worker \(try row.optionalString("worker_name") ?? workerID)"
            try await db.raw(
                """
                INSERT INTO deployment_progress (task_id, step_index, target_id, node, updated_at, progress) VALUES \
                (\(bind: try row.string("task_id")), \(bind: Int64(try row.int("step_index"))), \
                \(bind: try row.string("target_id")), \(bind: recorder), \(bind: time.unixMilliseconds), \(bind: json)) \
                ON CONFLICT (task_id, step_index, target_id) DO UPDATE SET node = excluded.node, \
                updated_at = excluded.updated_at, progress = excluded.progress
                """
            ).run()
            return true
        }
    }

    /// Ends the job `workerID` holds with its sealed outcome. - Returns: false when the worker no
    /// longer holds it (the outcome is not taken).
    public func finishStepJob(id: String, workerID: String, sealedOutcome: String, at time: Date) async throws -> Bool {
        try await database.transaction { db in
            !(try await db.raw(
                """
                UPDATE step_jobs SET state = 'finished', outcome = \(bind: sealedOutcome), \
                finished_at = \(bind: time.unixMilliseconds) \
                WHERE id = \(bind: id) AND worker_id = \(bind: workerID) AND state = 'running' RETURNING id
                """
            ).all()).isEmpty
        }
    }

    public func stepJob(id: String) async throws -> StepJobRecord? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM step_jobs WHERE id = \(bind: id)").first().map(Self.stepJob)
        }
    }

    /// Every job of a task, oldest first.
    public func stepJobs(taskID: String) async throws -> [StepJobRecord] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM step_jobs WHERE task_id = \(bind: taskID) ORDER BY created_at, id").all()
                .map(Self.stepJob)
        }
    }

    /// The job of a step on a target that is still queued or running (a node adopting the
    /// deployment waits for it instead of starting another).
    public func unfinishedStepJob(taskID: String, key: StepProgress.Key) async throws -> StepJobRecord? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT * FROM step_jobs WHERE task_id = \(bind: taskID) AND step_index = \(bind: Int64(key.stepIndex)) \
                AND target_id = \(bind: key.targetID ?? "") AND state IN ('queued', 'running') ORDER BY created_at DESC
                """
            ).first().map(Self.stepJob)
        }
    }

    /// Asks the worker of a job to cancel it (it hears so when it next renews).
    public func requestStepJobCancel(id: String) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE step_jobs SET cancel_requested = 1 WHERE id = \(bind: id)").run()
        }
    }

    /// When a job may be taken away from whoever has it.
    public enum AbandonCondition: Sendable {
        /// Only while no worker has claimed it (it waited too long for one).
        case stillQueued
        /// Only when its worker's lease has run out at `time` (a worker that renewed in between
        /// keeps it).
        case leaseExpired
        /// Whatever its state, unless it finished.
        case unfinished
    }

    /// Takes the job away: nothing more its worker sends is accepted.
    /// - Returns: false when `condition` no longer holds (it finished, was claimed, or was renewed).
    public func abandonStepJob(id: String, at time: Date, if condition: AbandonCondition) async throws -> Bool {
        let clause: SQLQueryString =
            switch condition {
            case .stillQueued: "state = 'queued'"
            case .leaseExpired: "state = 'running' AND lease_expires_at < \(bind: time.unixMilliseconds)"
            case .unfinished: "state IN ('queued', 'running')"
            }
        return try await database.transaction { db in
            !(try await db.raw(
                """
                UPDATE step_jobs SET state = 'abandoned', finished_at = \(bind: time.unixMilliseconds) \
                WHERE id = \(bind: id) AND \(clause) RETURNING id
                """
            ).all()).isEmpty
        }
    }

    /// Forgets a job's log lines up to `sequence`, once they are in the task's log.
    public func deleteStepJobLog(id: String, through sequence: Int) async throws {
        try await database.transaction { db in
            try await db.raw(
                "DELETE FROM step_job_log WHERE job_id = \(bind: id) AND sequence <= \(bind: Int64(sequence))"
            ).run()
        }
    }

    /// The newest job of a step on a target, in whatever state.
    public func latestStepJob(taskID: String, key: StepProgress.Key) async throws -> StepJobRecord? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT * FROM step_jobs WHERE task_id = \(bind: taskID) AND step_index = \(bind: Int64(key.stepIndex)) \
                AND target_id = \(bind: key.targetID ?? "") ORDER BY created_at DESC, id DESC LIMIT 1
                """
            ).first().map(Self.stepJob)
        }
    }

    static func stepJob(_ row: any SQLRow) throws -> StepJobRecord {
        let target = try row.string("target_id")
        guard let state = StepJobRecord.State(rawValue: try row.string("state")) else {
            throw BerthError(.internalError, "The step job \(try row.string("id")) has an unknown state.")
        }
        return StepJobRecord(
            id: try row.string("id"), taskID: try row.string("task_id"),
            key: StepProgress.Key(stepIndex: try row.int("step_index"), targetID: target.isEmpty ? nil : target),
            poolID: try row.string("pool_id"), state: state, sealedJob: try row.string("job"),
            workerID: try row.optionalString("worker_id"), workerName: try row.optionalString("worker_name"),
            leaseExpiresAt: try row.optionalDate("lease_expires_at"), cancelRequested: try row.int("cancel_requested") != 0,
            sealedOutcome: try row.optionalString("outcome"), createdAt: try row.date("created_at"),
            claimedAt: try row.optionalDate("claimed_at"), finishedAt: try row.optionalDate("finished_at"))
    }
}
