import BerthDomain
import Foundation
import SQLKit

/// Manual interventions: asked once per step of a deployment, answered once.
extension BerthStore {
    /// The step's intervention, asked now unless it was asked before (by an earlier run of the
    /// deployment, on this node or another).
    /// - Parameter limit: at most this many questions per task (a new one beyond is refused with 409).
    public func askIntervention(_ intervention: Intervention, limit: Int? = nil) async throws -> Intervention {
        try await database.transaction { db in
            if let existing = try await db.raw(
                """
                SELECT * FROM interventions WHERE task_id = \(bind: intervention.taskID) \
                AND step_index = \(bind: intervention.stepIndex) AND subject = \(bind: intervention.subject)
                """
            ).first() {
                return try Self.intervention(existing)
            }
            if let limit,
                try await db.raw("SELECT COUNT(*) AS n FROM interventions WHERE task_id = \(bind: intervention.taskID)").first()?
                    .int("n") ?? 0 >= limit
            {
                throw BerthError(
                    .conflict, "The task \(intervention.taskID) has asked \(limit) questions already; it asks no more.")
            }
            try await db.raw(
                """
                INSERT INTO interventions (id, task_id, step_index, subject, step_name, instructions, teams, created_at) \
                VALUES (\(bind: intervention.id), \(bind: intervention.taskID), \(bind: intervention.stepIndex), \
                \(bind: intervention.subject), \
                \(bind: intervention.stepName), \(bind: intervention.instructions), \(bind: jsonText(intervention.teams)), \
                \(bind: intervention.createdAt.unixMilliseconds))
                """
            ).run()
            return intervention
        }
    }

    public func intervention(id: String) async throws -> Intervention? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM interventions WHERE id = \(bind: id)").first().map(Self.intervention)
        }
    }

    /// The task's intervention still waiting for an answer, if any (the first asked, when several wait).
    public func pendingIntervention(taskID: String) async throws -> Intervention? {
        try await pendingInterventions(taskID: taskID).first
    }

    /// Every intervention of the task still waiting for an answer, the first asked first.
    public func pendingInterventions(taskID: String) async throws -> [Intervention] {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT * FROM interventions WHERE task_id = \(bind: taskID) AND answer IS NULL \
                ORDER BY step_index, created_at, id LIMIT 100
                """
            ).all().map(Self.intervention)
        }
    }

    /// Removes an unanswered question a step asked about `subject` and no longer needs answered.
    public func withdrawIntervention(taskID: String, stepIndex: Int, subject: String) async throws {
        try await database.transaction { db in
            try await db.raw(
                """
                DELETE FROM interventions WHERE task_id = \(bind: taskID) AND step_index = \(bind: stepIndex) \
                AND subject = \(bind: subject) AND answer IS NULL
                """
            ).run()
        }
    }

    /// Records the answer — once: of two answers, on any nodes, the first stands.
    /// - Returns: whether this answer was recorded.
    public func answerIntervention(
        id: String, _ answer: Intervention.Answer, by username: String, note: String?, at time: Date
    ) async throws -> Bool {
        try await database.transaction { db in
            let rows = try await db.raw(
                """
                UPDATE interventions SET answer = \(bind: answer.rawValue), answered_by = \(bind: username), \
                answered_at = \(bind: time.unixMilliseconds), note = \(bind: note) \
                WHERE id = \(bind: id) AND answer IS NULL RETURNING id
                """
            ).all()
            if rows.isEmpty { AuditTrail.pending?.discard() }
            return !rows.isEmpty
        }
    }

    static func intervention(_ row: any SQLRow) throws -> Intervention {
        var intervention = Intervention(
            id: try row.string("id"), taskID: try row.string("task_id"), stepIndex: try row.int("step_index"),
            stepName: try row.string("step_name"), instructions: try row.string("instructions"),
            teams: try row.json("teams", as: [String].self), createdAt: try row.date("created_at"),
            subject: try row.string("subject"))
        intervention.answer = try row.optionalString("answer").flatMap(Intervention.Answer.init(rawValue:))
        intervention.answeredBy = try row.optionalString("answered_by")
        intervention.answeredAt = try row.optionalDate("answered_at")
        intervention.note = try row.optionalString("note")
        return intervention
    }
}
