import BerthDomain
import Foundation
import SQLKit

/// Release previews: a task of kind release-verify or release-diff and what it previews.
extension BerthStore {
    public func createReleasePreview(_ preview: ReleasePreview, task: ServerTask) async throws {
        let gone = BerthError(
            .notFound, "The project, release or environment of this preview was deleted while it was being created.")
        let dialect = database.dialect
        try await database.transaction(orIfMissingReference: gone) { db in
            try await Self.insertTask(task, db)
            try await Self.announceQueuedTasks(db, dialect)
            try await db.raw(
                """
                INSERT INTO release_previews (task_id, space_id, project_id, release_id, environment_id, created_at) VALUES \
                (\(bind: preview.taskID), \(bind: preview.spaceID), \(bind: preview.projectID), \(bind: preview.releaseID), \
                \(bind: preview.environmentID), \(bind: preview.createdAt.unixMilliseconds))
                """
            ).run()
        }
    }

    /// What a task deploys, or previews: its deployment, or the deployment a preview would be
    /// (never stored; its id is the task's). Nil for other tasks.
    public func deploymentOrPreview(taskID: String) async throws -> Deployment? {
        if let deployment = try await deployment(taskID: taskID) { return deployment }
        return try await releasePreview(taskID: taskID).map {
            Deployment(
                id: $0.taskID, spaceID: $0.spaceID, projectID: $0.projectID, releaseID: $0.releaseID,
                environmentID: $0.environmentID, taskID: $0.taskID, createdAt: $0.createdAt)
        }
    }

    public func releasePreview(taskID: String) async throws -> ReleasePreview? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM release_previews WHERE task_id = \(bind: taskID)").first().map { row in
                ReleasePreview(
                    taskID: try row.string("task_id"), spaceID: try row.string("space_id"),
                    projectID: try row.string("project_id"),
                    releaseID: try row.string("release_id"), environmentID: try row.string("environment_id"),
                    createdAt: try row.date("created_at"))
            }
        }
    }
}
