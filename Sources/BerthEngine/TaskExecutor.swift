import BerthDomain
import Foundation

/// Does the work of one kind of server task.
public protocol TaskExecutor: Sendable {
    var kind: ServerTask.Kind { get }
    /// Runs the task, logging as it goes. Throwing fails the task with the error's message;
    /// cancellation ends it as cancelled.
    func execute(_ task: ServerTask, log: TaskLogWriter) async throws -> ExecutionResult
    /// Cleans up what earlier runs of an adopted task left behind, when it ends without running
    /// again: its cancel was requested while its node was dead, or its node died under it too
    /// often. Nothing by default.
    func giveUp(_ task: ServerTask, log: TaskLogWriter, because reason: GiveUpReason) async
    /// Called by the runner after a user's cancel ended the task's work, outside that cancelled
    /// work and before the task is finished: lets the executor see through what the cancel set
    /// off elsewhere (an external worker stopping its step). Nothing by default.
    func afterCancel(_ task: ServerTask, log: TaskLogWriter) async
}

/// Why an adopted task ends without running again.
public enum GiveUpReason: Sendable {
    case cancelled
    case failed
}

extension TaskExecutor {
    public func giveUp(_ task: ServerTask, log: TaskLogWriter, because reason: GiveUpReason) async {}
    public func afterCancel(_ task: ServerTask, log: TaskLogWriter) async {}
}

/// What an executor reports besides its log.
public struct ExecutionResult: Sendable {
    public var outcome: TaskOutcome
    /// A health check's verdict on its target.
    public var targetHealth: TargetHealth?

    public init(outcome: TaskOutcome, targetHealth: TargetHealth? = nil) {
        self.outcome = outcome
        self.targetHealth = targetHealth
    }
}

/// A readable message for anything an AWS call or the engine throws.
func describe(_ error: any Error) -> String {
    if let error = error as? BerthError { return error.message }
    return String(describing: error)
}
