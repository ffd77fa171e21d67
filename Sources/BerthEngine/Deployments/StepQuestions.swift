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
        guard !subject.isEmpty, subject.count <= 1024, instructions.count <= 4096 else {
            throw BerthError(
                .validationFailed, "A step's question needs a subject of 1 to 1024 characters and instructions of at most 4096.")
        }
        let fresh = Intervention(
            taskID: taskID, stepIndex: stepIndex, stepName: stepName, instructions: instructions, teams: [],
            createdAt: clock.now(), subject: subject)
        let asked = try await store.askIntervention(fresh)
        return QuestionState(asked, askedNow: asked.id == fresh.id)
    }
}
