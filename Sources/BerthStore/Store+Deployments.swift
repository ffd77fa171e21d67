import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Records the deployment and its queued task together.
    public func createDeployment(_ deployment: Deployment, task: ServerTask) async throws {
        try await database.transaction { db in
            try await Self.insertTask(task, db)
            try await db.raw(
                """
                INSERT INTO deployments (id, space_id, project_id, release_id, environment_id, task_id, created_at) VALUES \
                (\(bind: deployment.id), \(bind: deployment.spaceID), \(bind: deployment.projectID), \
                \(bind: deployment.releaseID), \(bind: deployment.environmentID), \(bind: deployment.taskID), \
                \(bind: deployment.createdAt.unixMilliseconds))
                """
            ).run()
        }
    }

    public func deployment(id: String) async throws -> Deployment? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM deployments WHERE id = \(bind: id)").first().map(Self.deployment)
        }
    }

    public func deployment(taskID: String) async throws -> Deployment? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM deployments WHERE task_id = \(bind: taskID)").first().map(Self.deployment)
        }
    }

    /// Takes the lock of one ECS service for `taskID`, or returns the task that holds it. A lock
    /// whose task has finished (a node died holding it) is taken over.
    public func acquireServiceLock(_ key: String, taskID: String, at time: Date) async throws -> String? {
        try await database.transaction { db in
            if database.dialect == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(4242003)").run()
            }
            if let row = try await db.raw("SELECT task_id FROM service_locks WHERE service_key = \(bind: key)").first() {
                let holder = try row.string("task_id")
                if holder == taskID { return nil }
                let state = try await db.raw("SELECT state FROM tasks WHERE id = \(bind: holder)").first()
                    .map { try $0.string("state") }
                if state == "queued" || state == "executing" { return holder }
                try await db.raw("DELETE FROM service_locks WHERE service_key = \(bind: key)").run()
            }
            try await db.raw(
                """
                INSERT INTO service_locks (service_key, task_id, acquired_at) VALUES \
                (\(bind: key), \(bind: taskID), \(bind: time.unixMilliseconds))
                """
            ).run()
            return nil
        }
    }

    public func releaseServiceLock(_ key: String, taskID: String) async throws {
        // A write: through `transaction`, which queues SQLite writers instead of busy-waiting.
        try await database.transaction { db in
            try await db.raw("DELETE FROM service_locks WHERE service_key = \(bind: key) AND task_id = \(bind: taskID)").run()
        }
    }

    static func deployment(_ row: any SQLRow) throws -> Deployment {
        Deployment(
            id: try row.string("id"), spaceID: try row.string("space_id"), projectID: try row.string("project_id"),
            releaseID: try row.string("release_id"), environmentID: try row.string("environment_id"),
            taskID: try row.string("task_id"), createdAt: try row.date("created_at"))
    }
}
