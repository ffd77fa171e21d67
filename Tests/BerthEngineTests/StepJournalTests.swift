import BerthDomain
import BerthStore
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import BerthEngine

/// The journal against a store that does what a real database does only at the worst moment:
/// refuses a write because another node took the task, or fails for a passing reason. (Everything
/// else — adoption, resuming each step — runs on a real SQLite file in `DeploymentAdoptionTests`
/// and `DeploymentContinuationTests`.)
@Suite("The step journal")
struct StepJournalTests {
    /// Progress in memory, written only while `holder` holds the task; `failures` transient errors first.
    final class ProgressStore: StepProgressStore {
        struct State {
            var records: [StepProgress.Key: StepProgress] = [:]
            var holder: String
            var failures = 0
            var attempts = 0
        }
        let state: Mutex<State>

        init(holder: String, failures: Int = 0) { state = Mutex(State(holder: holder, failures: failures)) }

        var records: [StepProgress.Key: StepProgress] { state.withLock { $0.records } }

        func takeOver(by node: String) { state.withLock { $0.holder = node } }

        func recordStepProgress(
            _ progress: StepProgress, at key: StepProgress.Key, taskID: String, owner: TaskOwner, time: Date
        ) async throws -> Bool {
            try state.withLock { state in
                state.attempts += 1
                if state.failures > 0 {
                    state.failures -= 1
                    throw IOError(errnoCode: ECONNRESET, reason: "the connection to the database was reset")
                }
                guard state.holder == owner.node else { return false }
                var stored = progress
                stored.recordedBy = owner.node
                state.records[key] = stored
                return true
            }
        }

        func stepProgress(taskID: String) async throws -> [StepProgress.Key: StepProgress] { records }
    }

    static let key = StepProgress.Key(stepIndex: 1, targetID: "target-1")
    static let secrets = SecretBox(masterKey: MasterKey.generate().key)

    static func configuration(node: String) -> EngineConfiguration {
        EngineConfiguration(node: TaskOwner(node: node), healthCheckInterval: nil)
    }

    @Test("A node that lost the task records nothing more: the write is refused, the journal says so and keeps nothing")
    func lostTaskRecordsNothing() async throws {
        let store = ProgressStore(holder: "a")
        let journal = try await StepJournal.load(
            taskID: "task-1", store: store, secrets: Self.secrets, configuration: Self.configuration(node: "a"))
        try await journal.update(Self.key) { $0.taskDefinitionARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:1" }
        store.takeOver(by: "b")
        await #expect(throws: BerthError.self) {
            try await journal.update(Self.key) { $0.serviceChangedAt = Date() }
        }
        #expect(store.records[Self.key]?.serviceChangedAt == nil)
        #expect(store.records[Self.key]?.taskDefinitionARN?.hasSuffix("web:1") == true)
        do {
            try await journal.finish(Self.key, outcome: .succeeded(["Revision": "1"]))
            Issue.record("a node that lost the task recorded its outcome")
        } catch let error as BerthError {
            #expect(error.message.contains("Node a no longer holds this task"), "\(error)")
        }
        #expect(store.records[Self.key]?.finished == nil)
    }

    @Test("A record that meets a passing database failure is written on a later attempt")
    func transientFailuresAreRetried() async throws {
        let store = ProgressStore(holder: "a", failures: 2)
        let journal = try await StepJournal.load(
            taskID: "task-1", store: store, secrets: Self.secrets, configuration: Self.configuration(node: "a"))
        try await journal.update(Self.key) { $0.taskARNs = ["arn:aws:ecs:eu-west-1:123456789012:task/prod/abc"] }
        #expect(store.state.withLock { $0.attempts } == 3)
        #expect(store.records[Self.key]?.taskARNs == ["arn:aws:ecs:eu-west-1:123456789012:task/prod/abc"])
    }

    @Test(
        "Outputs are recorded sealed: the store never holds a sensitive value in clear, and the node that adopts the task opens them; a record moved to another step does not open"
    )
    func outputsAreSealed() async throws {
        let store = ProgressStore(holder: "a")
        let first = try await StepJournal.load(
            taskID: "task-1", store: store, secrets: Self.secrets, configuration: Self.configuration(node: "a"))
        var outcome = StepOutcome.succeeded(["Ticket": "T-42", "Pin": "90807262"]).on("prod", as: "arn:aws:iam::1:role/x")
        outcome.sensitiveOutputs = ["Pin"]
        try await first.finish(Self.key, outcome: outcome)

        let stored = try #require(store.records[Self.key])
        let encoded = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
        #expect(!encoded.contains("90807262"), "the sensitive output is stored in clear: \(encoded)")
        #expect(!encoded.contains("T-42"), "outputs are stored in clear: \(encoded)")
        #expect(stored.finished?.state == .succeeded)

        store.takeOver(by: "b")
        let adopting = try await StepJournal.load(
            taskID: "task-1", store: store, secrets: Self.secrets, configuration: Self.configuration(node: "b"))
        let finished = try #require(adopting.earlier[Self.key]?.finished)
        #expect(try adopting.outcome(finished, at: Self.key) == outcome)
        #expect(adopting.earlier[Self.key]?.recordedBy == "a")
        // Sealed for its own step and target: copied elsewhere, it does not open.
        #expect(throws: BerthError.self) {
            try adopting.outcome(finished, at: StepProgress.Key(stepIndex: 2, targetID: "target-1"))
        }
        // Nor under another master key.
        let stranger = try await StepJournal.load(
            taskID: "task-1", store: store, secrets: SecretBox(masterKey: MasterKey.generate().key),
            configuration: Self.configuration(node: "b"))
        #expect(throws: BerthError.self) { try stranger.outcome(finished, at: Self.key) }
    }
}
