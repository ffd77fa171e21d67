import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Records what a step has done on a target (``StepProgress``), replacing what was recorded
    /// before. Only the node that holds the task may: a node that lost its lease writes nothing.
    /// - Returns: false when `owner` no longer holds the task (it must stop working on it).
    public func recordStepProgress(
        _ progress: StepProgress, at key: StepProgress.Key, taskID: String, owner: TaskOwner, time: Date
    ) async throws -> Bool {
        var stored = progress
        stored.recordedBy = nil
        let json = jsonText(stored)
        let lock = database.dialect == .postgres ? " FOR SHARE" : ""
        return try await database.transaction { db in
            // The holder is read with a share lock on PostgreSQL: a takeover (which locks the row
            // for update) cannot slip in between this check and the write.
            let held = try await db.raw(
                """
                SELECT id FROM tasks WHERE id = \(bind: taskID) AND owner_instance = \(bind: owner.instance) \
                AND state = 'executing'\(unsafeRaw: lock)
                """
            ).first()
            guard held != nil else { return false }
            try await db.raw(
                """
                INSERT INTO deployment_progress (task_id, step_index, target_id, node, updated_at, progress) VALUES \
                (\(bind: taskID), \(bind: Int64(key.stepIndex)), \(bind: key.targetID ?? ""), \(bind: owner.node), \
                \(bind: time.unixMilliseconds), \(bind: json)) \
                ON CONFLICT (task_id, step_index, target_id) DO UPDATE SET node = excluded.node, \
                updated_at = excluded.updated_at, progress = excluded.progress
                """
            ).run()
            return true
        }
    }

    /// Everything recorded about a deployment task's steps, by step and target.
    public func stepProgress(taskID: String) async throws -> [StepProgress.Key: StepProgress] {
        let rows = try await database.withConnection { db in
            try await db.raw(
                "SELECT step_index, target_id, node, progress FROM deployment_progress WHERE task_id = \(bind: taskID)"
            ).all()
        }
        var recorded: [StepProgress.Key: StepProgress] = [:]
        for row in rows {
            let target = try row.string("target_id")
            let key = StepProgress.Key(stepIndex: try row.int("step_index"), targetID: target.isEmpty ? nil : target)
            do {
                var progress = try row.json("progress", as: StepProgress.self)
                progress.recordedBy = try row.string("node")
                recorded[key] = progress
            } catch {
                throw BerthError(
                    .internalError,
                    "The recorded progress of step \(key.stepIndex + 1) of task \(taskID) cannot be read: \(error)")
            }
        }
        return recorded
    }
}
