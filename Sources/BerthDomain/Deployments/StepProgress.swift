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
    }

    /// How the step ended. The output variables are sealed with the master key: scripts set
    /// sensitive ones.
    public struct Finished: Sendable, Hashable, Codable {
        public var state: ServerTask.State
        public var message: String?
        /// The AWS identity the step ran as.
        public var identity: String?
        /// The outputs and which of them are sensitive (``StepOutcome``), as JSON, sealed.
        public var sealedOutcome: String

        public init(state: ServerTask.State, message: String?, identity: String?, sealedOutcome: String) {
            self.state = state
            self.message = message
            self.identity = identity
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
    /// Set once the step has ended on the target.
    public var finished: Finished?
    /// The node that recorded the progress last (filled in by the store).
    public var recordedBy: String?

    public init() {}

    /// Nothing but "the step has started": recorded before a step begins, so that a script that
    /// was running when its node died is known to have started.
    public var isBare: Bool { taskDefinitionARN == nil && serviceChangedAt == nil && taskARNs == nil && finished == nil }
}
