import BerthDomain
import Foundation

/// The messages between the server and an external worker (`berth worker run`), as JSON over
/// HTTP(S) under ``basePath``. The worker only ever opens connections to the server: it asks for a
/// job (a long poll), then sends the job's log lines, progress and outcome, renewing its lease with
/// each. Every call but ``RegisterRequest`` carries the worker's credential as a bearer token; the
/// credential opens nothing of the user API.
public enum JobProtocol {
    public static let basePath = "/api/worker"

    /// How long a claim waits on the server for a job before answering "none" (204).
    public static let longPollSeconds = 20

    public struct RegisterRequest: Codable, Sendable {
        public var pool: String
        public var name: String
        public var token: String
        public var version: String

        public init(pool: String, name: String, token: String, version: String) {
            self.pool = pool
            self.name = name
            self.token = token
            self.version = version
        }
    }

    public struct RegisterResponse: Codable, Sendable {
        public var workerID: String
        public var name: String
        public var pool: String
        /// The worker's credential: shown once, stored hashed on the server.
        public var credential: String

        public init(workerID: String, name: String, pool: String, credential: String) {
            self.workerID = workerID
            self.name = name
            self.pool = pool
            self.credential = credential
        }
    }

    public struct ClaimRequest: Codable, Sendable {
        public var version: String
        /// How long the server may hold the request waiting for a job (at most ``longPollSeconds``).
        public var waitSeconds: Int

        public init(version: String, waitSeconds: Int) {
            self.version = version
            self.waitSeconds = waitSeconds
        }
    }

    public struct ClaimResponse: Codable, Sendable {
        public var jobID: String
        public var job: StepJob
        /// The lease the worker holds the job by; it renews it well within this.
        public var leaseSeconds: Int

        public init(jobID: String, job: StepJob, leaseSeconds: Int) {
            self.jobID = jobID
            self.job = job
            self.leaseSeconds = leaseSeconds
        }
    }

    public struct LogRequest: Codable, Sendable {
        public var lines: [StepJobLogLine]

        public init(lines: [StepJobLogLine]) { self.lines = lines }
    }

    /// What the server says of a job when the worker renews its lease.
    public enum LeaseState: String, Codable, Sendable {
        /// Carry on.
        case held
        /// Someone cancelled the deployment: stop the step as a cancel does, and report the outcome.
        case cancel
        /// The job is no longer this worker's (its lease ran out, or the worker was deleted): stop
        /// at once and report nothing; another worker carries the step on.
        case lost
    }

    public struct LeaseResponse: Codable, Sendable {
        public var state: LeaseState

        public init(state: LeaseState) { self.state = state }
    }

    public struct ProgressRequest: Codable, Sendable {
        public var progress: StepProgress

        public init(progress: StepProgress) { self.progress = progress }
    }

    public struct LockRequest: Codable, Sendable {
        public var key: String
        /// Release the lock instead of taking it.
        public var release: Bool

        public init(key: String, release: Bool) {
            self.key = key
            self.release = release
        }
    }

    public struct LockResponse: Codable, Sendable {
        public var held: Bool
        /// The task that holds the lock when this job could not take it.
        public var holder: String?

        public init(held: Bool, holder: String?) {
            self.held = held
            self.holder = holder
        }
    }

    public struct TokenResponse: Codable, Sendable {
        public var token: String

        public init(token: String) { self.token = token }
    }

    /// A question for a person within a step (an ECS PAUSE hook), asked once per subject.
    public struct AskRequest: Codable, Sendable {
        public var subject: String
        public var instructions: String
        /// Withdraw the question about `subject` instead (when unanswered).
        public var withdraw: Bool?

        public init(subject: String, instructions: String, withdraw: Bool? = nil) {
            self.subject = subject
            self.instructions = instructions
            self.withdraw = withdraw
        }
    }

    public typealias AskResponse = QuestionState

    public struct OutcomeRequest: Codable, Sendable {
        public var outcome: StepOutcome

        public init(outcome: StepOutcome) { self.outcome = outcome }
    }
}
