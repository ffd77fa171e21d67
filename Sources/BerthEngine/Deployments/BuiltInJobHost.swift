import BerthDomain
import BerthWorker
import Foundation

/// The built-in worker's side of the job protocol, inside the node that holds the task: log lines
/// go to the task's log writer, progress to the deployment's journal (which checks that this node
/// still holds the task), service locks to the store, and a fresh token comes from the job's own
/// OIDC subject.
struct BuiltInJobHost: StepJobHost {
    let log: any StepJobLog
    let journal: StepJournal
    let key: StepProgress.Key
    let stepName: String
    let taskID: String
    let locks: ServiceLocks
    let tokens: (any WebIdentityTokenSource)?
    let questions: StepQuestions

    func record(_ progress: StepProgress) async throws {
        try await journal.update(key) { $0 = progress }
    }

    func withServiceLock<Result: Sendable>(
        _ key: String, waitAtMost limit: Duration, log: LogSection, _ body: () async throws -> Result
    ) async throws -> Result {
        try await locks.withLock(key, taskID: taskID, waitAtMost: limit, log: log, body)
    }

    func askPerson(subject: String, instructions: String) async throws -> QuestionState {
        try await questions.ask(
            taskID: taskID, stepIndex: key.stepIndex, stepName: stepName, subject: subject, instructions: instructions)
    }

    func withdrawQuestion(subject: String) async throws {
        try await questions.withdraw(taskID: taskID, stepIndex: key.stepIndex, subject: subject)
    }

    func freshWebIdentityToken() async throws -> String {
        guard let tokens else {
            throw BerthError(.conflict, "This job's credentials have no web identity to mint a token for.")
        }
        return try await tokens.freshWebIdentityToken()
    }
}
