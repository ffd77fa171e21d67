import BerthDomain
import BerthStore
import Foundation

/// What a ``StepJournal`` needs of the store: the progress of a deployment's steps, written only by
/// the node that holds the task. `BerthStore` is the one used (SQLite or PostgreSQL); tests give a
/// journal a store that refuses or fails as a database would at the worst moment.
protocol StepProgressStore: Sendable {
    /// Records `progress` at `key`; false when `owner` no longer holds the task.
    func recordStepProgress(
        _ progress: StepProgress, at key: StepProgress.Key, taskID: String, owner: TaskOwner, time: Date
    ) async throws -> Bool
    /// Everything recorded about the task's steps.
    func stepProgress(taskID: String) async throws -> [StepProgress.Key: StepProgress]
}

extension BerthStore: StepProgressStore {}
