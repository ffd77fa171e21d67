import AWSCore
import BerthDomain
import BerthStore
import BerthWorker
import Foundation

/// Questions a running step asks a person (an ECS PAUSE hook): stored as manual interventions of
/// the task, one per subject, so that `berth task approve|reject`, the API and the task page answer
/// them as any other, any node takes the answer, and a step run again finds its question asked.
struct StepQuestions: Sendable {
    let store: BerthStore
    let clock: any AWSClock

    func ask(taskID: String, stepIndex: Int, stepName: String, subject: String, instructions: String) async throws
        -> QuestionState
    {
        // Bytes, not characters: the subject is part of a unique index (PostgreSQL takes about
        // 2,700 bytes per index entry).
        guard !subject.isEmpty, subject.utf8.count <= 512, instructions.utf8.count <= 4096 else {
            throw BerthError(
                .validationFailed, "A step's question needs a subject of 1 to 512 bytes and instructions of at most 4096.")
        }
        let fresh = Intervention(
            taskID: taskID, stepIndex: stepIndex, stepName: stepName, instructions: instructions, teams: [],
            createdAt: clock.now(), subject: subject)
        // Asking again (how a step reads the answer) is never refused; only a new question beyond the limit.
        let asked = try await store.askIntervention(fresh, limit: Self.limitPerTask)
        return QuestionState(asked, askedNow: asked.id == fresh.id)
    }

    /// At most this many questions per task: a worker cannot fill the database with them.
    static let limitPerTask = 200

    func withdraw(taskID: String, stepIndex: Int, subject: String) async throws {
        guard !subject.isEmpty else { return }
        try await store.withdrawIntervention(taskID: taskID, stepIndex: stepIndex, subject: subject)
    }
}
