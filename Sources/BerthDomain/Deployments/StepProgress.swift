import Foundation

/// What one step has done on one target of a deployment, recorded as it happens, so that a node
/// that adopts the deployment (its first node died) continues it instead of starting over:
/// a finished step is not run again, a service step does not register a second revision or make
/// a second change to its service, a Run ECS task step does not start its tasks twice.
public struct StepProgress: Sendable, Hashable, Codable {
    /// Which step (its position in the release) on which target (nil: on the worker).
    public struct Key: Sendable, Hashable {
        public var stepIndex: Int
        public var targetID: String?

        public init(stepIndex: Int, targetID: String?) {
            self.stepIndex = stepIndex
            self.targetID = targetID
        }

        /// The client token of this step's ECS calls that take one (RunTask, CreateService): the
        /// same for every node that runs the step of `taskID`, so that a call repeated by a node
        /// adopting the deployment — its first node died after ECS acted, before it recorded —
        /// gets ECS's first answer instead of a second task or service. 32 hexadecimal digits
        /// (CreateService takes at most 36 characters).
        public func clientToken(taskID: String) -> String {
            let text = Array("\(taskID)/\(stepIndex)/\(targetID ?? "")".utf8)
            // FNV-1a, twice with different offsets: stable across processes and versions, unlike
            // Swift's seeded hashing; uniqueness, not secrecy, is what a client token needs.
            func fnv1a(_ basis: UInt64) -> UInt64 {
                text.reduce(basis) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
            }
            return [fnv1a(0xcbf2_9ce4_8422_2325), fnv1a(0x8422_2325_cbf2_9ce4)]
                .map { String($0, radix: 16).leftPadded(to: 16) }.joined()
        }
    }

    /// How the step ended: its state, and the whole ``StepOutcome`` sealed with the master key —
    /// scripts set sensitive outputs, and a message may quote a value.
    public struct Finished: Sendable, Hashable, Codable {
        public var state: ServerTask.State
        /// The ``StepOutcome`` as JSON, sealed.
        public var sealedOutcome: String

        public init(state: ServerTask.State, sealedOutcome: String) {
            self.state = state
            self.sealedOutcome = sealedOutcome
        }
    }

    /// The task definition revision a service step registered.
    public var taskDefinitionARN: String?
    /// When the service was created or updated to ``taskDefinitionARN`` (its rollout began).
    public var serviceChangedAt: Date?
    /// The tasks a Run ECS task step started, and when.
    public var taskARNs: [String]?
    public var tasksStartedAt: Date?
    /// When a script step started its script: a node that adopts the deployment does not run it
    /// again, since running it twice may not be safe.
    public var scriptStartedAt: Date?
    /// Set once the step has ended on the target.
    public var finished: Finished?
    /// The node that recorded the progress last (filled in by the store).
    public var recordedBy: String?

    /// Who recorded this, for the log: "node a", or "the worker fleet-a" (a worker records as
    /// `worker NAME`).
    public var recorder: String {
        guard let recordedBy else { return "the node running it" }
        return recordedBy.hasPrefix("worker ") ? "the \(recordedBy)" : "node \(recordedBy)"
    }

    public init() {}
}

extension String {
    /// The string with zeros in front, `length` characters long at least.
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
