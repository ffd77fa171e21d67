import Foundation

/// How one step ended on one target: the one result type of a step, from ECS's verdict on a
/// rollout (``init(_:outputs:)``) through the record another node carries a deployment on from
/// (``StepProgress``) to the deployment's outcome.
public struct StepOutcome: Sendable, Hashable, Codable {
    public var state: ServerTask.State
    public var message: String?
    public var outputs: [String: String] = [:]
    /// Output variables set as sensitive (by a script).
    public var sensitiveOutputs: Set<String> = []
    /// The target's name (nil: the step ran on the worker).
    public var target: String?
    /// The AWS identity (GetCallerIdentity ARN) the step ran as.
    public var identity: String?

    /// This outcome, said of `target` and run as `identity`.
    public func on(_ target: String?, as identity: String?) -> StepOutcome {
        var outcome = self
        outcome.target = target
        outcome.identity = identity
        return outcome
    }

    public static func succeeded(_ outputs: [String: String] = [:]) -> StepOutcome {
        StepOutcome(state: .succeeded, outputs: outputs)
    }
    public static func failed(_ message: String) -> StepOutcome { StepOutcome(state: .failed, message: message) }

    /// The outcome of a wait, with the outputs a success carries.
    public init(_ verdict: RolloutVerdict, outputs: [String: String]) {
        switch verdict {
        case .succeeded: self.init(state: .succeeded, outputs: outputs)
        case .failed(let reason): self.init(state: .failed, message: reason)
        case .rolledBack(let reason): self.init(state: .rolledBack, message: reason)
        case .timedOut(let reason): self.init(state: .timedOut, message: reason)
        case .inProgress(let progress): self.init(state: .failed, message: "stopped waiting while in progress: \(progress)")
        }
    }

    public init(state: ServerTask.State, message: String? = nil, outputs: [String: String] = [:]) {
        self.state = state
        self.message = message
        self.outputs = outputs
    }

    /// Which of several outcomes describes a whole step or deployment: cancelled, then timed out,
    /// rolled back, failed; succeeded only when all succeeded.
    public static func severity(_ state: ServerTask.State) -> Int {
        switch state {
        case .succeeded, .queued, .executing: 0
        case .failed: 1
        case .rolledBack: 2
        case .timedOut: 3
        case .cancelled: 4
        }
    }
}
