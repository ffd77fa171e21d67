import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Records the deployment and its queued task together.
    public func createDeployment(_ deployment: Deployment, task: ServerTask) async throws {
        let gone = BerthError(
            .notFound, "The project, release or environment of this deployment was deleted while it was being created.")
        let dialect = database.dialect
        try await database.transaction(orIfMissingReference: gone) { db in
            try await Self.insertTask(task, db)
            try await Self.announceQueuedTasks(db, dialect)
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

    /// Which deployments to list: all of a space, or of one project and/or environment; with
    /// `latestOnly`, just the newest of each project in each environment (what is where).
    public struct DeploymentFilter: Sendable {
        public var projectID: String?
        public var environmentID: String?
        public var latestOnly: Bool
        public var limit: Int
        /// List what comes after this deployment (the id ending the previous page).
        public var after: String?

        public init(projectID: String? = nil, environmentID: String? = nil, latestOnly: Bool = false, limit: Int = 50) {
            self.projectID = projectID
            self.environmentID = environmentID
            self.latestOnly = latestOnly
            self.limit = limit
        }
    }

    /// Deployments newest first — or, with `latestOnly`, by project name and environment order —
    /// with the names and the state of their tasks, in one query.
    public func deployments(spaceID: String, _ filter: DeploymentFilter) async throws -> [DeploymentSummary] {
        try await database.withConnection { db in
            var query = SQLQueryString(
                """
                SELECT d.*, p.name AS project_name, r.version AS release_version, e.name AS environment_name,                 t.state AS task_state, t.error_message AS task_error, t.completed_at AS task_completed_at, t.queued_by AS task_queued_by                 FROM deployments d JOIN projects p ON p.id = d.project_id JOIN releases r ON r.id = d.release_id                 JOIN environments e ON e.id = d.environment_id JOIN tasks t ON t.id = d.task_id                 WHERE d.space_id = \(bind: spaceID)
                """)
            if let projectID = filter.projectID { query += " AND d.project_id = \(bind: projectID)" }
            if let environmentID = filter.environmentID { query += " AND d.environment_id = \(bind: environmentID)" }
            if let after = filter.after, filter.latestOnly {
                // Ordered by project and environment: after the pair of that deployment.
                query += """
                     AND (p.name, e.sort_order, e.name) > (SELECT ap.name, ae.sort_order, ae.name FROM deployments ad \
                    JOIN projects ap ON ap.id = ad.project_id JOIN environments ae ON ae.id = ad.environment_id \
                    WHERE ad.id = \(bind: after))
                    """
            } else if let after = filter.after {
                query += """
                     AND (d.created_at < (SELECT created_at FROM deployments WHERE id = \(bind: after)) \
                    OR (d.created_at = (SELECT created_at FROM deployments WHERE id = \(bind: after)) AND d.id < \(bind: after)))
                    """
            }
            if filter.latestOnly {
                query += """
                     AND d.id = (SELECT l.id FROM deployments l WHERE l.project_id = d.project_id \
                    AND l.environment_id = d.environment_id ORDER BY l.created_at DESC, l.id DESC LIMIT 1) \
                    ORDER BY p.name, e.sort_order, e.name
                    """
            } else {
                query += " ORDER BY d.created_at DESC, d.id DESC"
            }
            query += " LIMIT \(bind: filter.limit)"
            return try await db.raw(query).all().map { row in
                let deployment = try Self.deployment(row)
                guard let state = ServerTask.State(rawValue: try row.string("task_state")) else {
                    throw BerthError(
                        .internalError, "The task of deployment \(deployment.id) has an unknown state in the database.")
                }
                return DeploymentSummary(
                    deployment: deployment, projectName: try row.string("project_name"),
                    releaseVersion: try row.string("release_version"), environmentName: try row.string("environment_name"),
                    state: state, errorMessage: try row.optionalString("task_error"),
                    completedAt: try row.optionalDate("task_completed_at"),
                    deployedBy: try row.optionalString("task_queued_by"))
            }
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
