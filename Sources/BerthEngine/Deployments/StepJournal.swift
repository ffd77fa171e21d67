import AWSCore
import BerthDomain
import BerthStore
import Foundation
import Logging

/// A deployment's record of what its steps have done (``StepProgress``), read when the task
/// starts and written as each step goes: what lets a node that adopts the deployment carry on
/// where the last one stopped. Writes go through the store's owner check, so a node that lost the
/// task cannot record anything more.
actor StepJournal {
    let taskID: String
    let store: any StepProgressStore
    let secrets: SecretBox
    let configuration: EngineConfiguration
    private var entries: [StepProgress.Key: StepProgress]

    /// What earlier runs of the task recorded, as they left it.
    nonisolated let earlier: [StepProgress.Key: StepProgress]

    static func load(
        taskID: String, store: any StepProgressStore, secrets: SecretBox, configuration: EngineConfiguration
    ) async throws -> StepJournal {
        let recorded = try await store.stepProgress(taskID: taskID)
        return StepJournal(taskID: taskID, store: store, secrets: secrets, configuration: configuration, recorded: recorded)
    }

    private init(
        taskID: String, store: any StepProgressStore, secrets: SecretBox, configuration: EngineConfiguration,
        recorded: [StepProgress.Key: StepProgress]
    ) {
        self.taskID = taskID
        self.store = store
        self.secrets = secrets
        self.configuration = configuration
        self.entries = recorded
        self.earlier = recorded
    }

    /// Changes what is recorded for `key` and writes it (transient database failures retried).
    /// - Throws: when this node no longer holds the task, or the database keeps failing.
    func update(_ key: StepProgress.Key, _ change: @Sendable (inout StepProgress) -> Void) async throws {
        var progress = entries[key] ?? StepProgress()
        change(&progress)
        progress.recordedBy = configuration.node.node
        let (store, taskID, owner, clock) = (store, taskID, configuration.node, configuration.clock)
        let recorded = try await configuration.databaseRetry.run(
            "record a step's progress", logger: configuration.logger, metadata: ["task.id": "\(taskID)"]
        ) { [progress] in
            try await store.recordStepProgress(progress, at: key, taskID: taskID, owner: owner, time: clock.now())
        }
        guard recorded else {
            throw BerthError(
                .conflict,
                "Node \(owner.node) no longer holds this task (another node took it over); it stops working on it.")
        }
        entries[key] = progress
    }

    /// Reads again what is recorded for `key`: a worker records a job's progress in the store
    /// directly, and the journal must build on that, not on what it last wrote itself.
    func reload(_ key: StepProgress.Key) async throws -> StepProgress? {
        let recorded = try await store.stepProgress(taskID: taskID)[key]
        entries[key] = recorded
        return recorded
    }

    /// Records how the step ended on the target, sealed.
    func finish(_ key: StepProgress.Key, outcome: StepOutcome) async throws {
        let json = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
        let sealed = try secrets.seal(json, for: .stepOutcome(taskID: taskID, at: key)).ciphertext
        try await update(key) { progress in
            progress.finished = StepProgress.Finished(state: outcome.state, sealedOutcome: sealed)
        }
    }

    /// The outcome an earlier run recorded, outputs opened.
    nonisolated func outcome(_ finished: StepProgress.Finished, at key: StepProgress.Key) throws -> StepOutcome {
        let json = try secrets.open(SealedSecret(ciphertext: finished.sealedOutcome), for: .stepOutcome(taskID: taskID, at: key))
        do {
            return try JSONDecoder().decode(StepOutcome.self, from: Data(json.utf8))
        } catch {
            throw BerthError(.internalError, "The recorded outcome of step \(key.stepIndex + 1) cannot be read: \(error)")
        }
    }
}
