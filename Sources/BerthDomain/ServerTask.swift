import Foundation

/// A unit of work with a state and a log: an account test, a health check, a deployment.
public struct ServerTask: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case healthCheck = "health-check"
        case accountTest = "account-test"
        case deployment
        /// `berth release verify`: the preflight of a release's service steps in an environment.
        case releaseVerify = "release-verify"
        /// `berth release diff`: what a release's service steps would change in an environment.
        case releaseDiff = "release-diff"

        /// The preview of a release (verify or diff): it runs the release's service steps in that
        /// mode, changes nothing, and is no deployment.
        public var previewMode: StepJob.Mode? {
            switch self {
            case .releaseVerify: .verify
            case .releaseDiff: .diff
            default: nil
            }
        }
    }

    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        case queued, executing, succeeded, failed, cancelled
        case timedOut = "timed-out"
        /// A deployment whose ECS circuit breaker put the previous revision back.
        case rolledBack = "rolled-back"

        public var isFinished: Bool { self != .queued && self != .executing }

        /// The state in words, for logs and messages: "rolled back", "timed out", "succeeded".
        public var phrase: String { rawValue.replacingOccurrences(of: "-", with: " ") }
    }

    public var id: String
    public var spaceID: String
    public var kind: Kind
    public var description: String
    public var state: State
    public var targetID: String?
    public var accountID: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    public var errorMessage: String?
    /// The AWS identity (GetCallerIdentity ARN) the task ran as.
    public var identityARN: String?
    /// Health checks: the status they found.
    public var healthStatus: HealthStatus?
    /// The node that runs (or ran) it.
    public var ownerNode: String?
    /// Someone asked to cancel it while it was executing.
    public var cancelRequested = false
    /// The username of who queued it; nil for the server's own (the health-check schedule).
    public var queuedBy: String?

    public init(
        id: String = RecordID.make("task"), spaceID: String, kind: Kind, description: String, state: State = .queued,
        targetID: String? = nil, accountID: String? = nil, createdAt: Date, startedAt: Date? = nil,
        completedAt: Date? = nil, errorMessage: String? = nil, identityARN: String? = nil,
        healthStatus: HealthStatus? = nil, ownerNode: String? = nil, queuedBy: String? = nil
    ) {
        self.queuedBy = queuedBy
        self.id = id
        self.spaceID = spaceID
        self.kind = kind
        self.description = description
        self.state = state
        self.targetID = targetID
        self.accountID = accountID
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.errorMessage = errorMessage
        self.identityARN = identityARN
        self.healthStatus = healthStatus
        self.ownerNode = ownerNode
    }
}

/// How a finished task ended.
public struct TaskOutcome: Sendable, Hashable {
    public var state: ServerTask.State
    public var errorMessage: String?
    public var identityARN: String?
    public var healthStatus: HealthStatus?

    public init(
        state: ServerTask.State, errorMessage: String? = nil, identityARN: String? = nil, healthStatus: HealthStatus? = nil
    ) {
        self.state = state
        self.errorMessage = errorMessage
        self.identityARN = identityARN
        self.healthStatus = healthStatus
    }
}

public enum LogLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case verbose, info, warning, error
}

/// One line of a task log, already masked. Deployments group lines in sections, one per step and
/// target ("Deploy web on prod-cluster").
public struct TaskLogLine: Sendable, Hashable {
    public var sequence: Int
    public var time: Date
    public var level: LogLevel
    public var message: String
    public var section: String?

    public init(sequence: Int, time: Date, level: LogLevel, message: String, section: String? = nil) {
        self.sequence = sequence
        self.time = time
        self.level = level
        self.message = message
        self.section = section
    }
}
