import Foundation

/// A worker: an external one (`berth worker`), registered into one pool with a registration token,
/// or a node's built-in worker (a separate process the node starts, which takes the jobs of every
/// space's default pool). Either long-polls the server for jobs with a credential of its own
/// (stored hashed).
public struct Worker: Sendable, Hashable, Codable {
    /// A worker that has not been heard from for this long is unreachable (it polls at least every
    /// 20 s while idle, and sends log lines or a heartbeat every few seconds while working).
    public static let unreachableAfter: TimeInterval = 60

    public var id: String
    public var poolID: String
    public var name: String
    public var slug: String { Slug.make(name) }
    /// The worker's `berth` version, as it last said.
    public var version: String
    public var registeredAt: Date
    public var lastContactAt: Date?
    /// The node whose built-in worker this is; nil for an external worker.
    public var builtInNode: String?

    public init(
        id: String = RecordID.make("worker"), poolID: String, name: String, version: String, registeredAt: Date,
        lastContactAt: Date? = nil, builtInNode: String? = nil
    ) {
        self.id = id
        self.poolID = poolID
        self.name = name
        self.version = version
        self.registeredAt = registeredAt
        self.lastContactAt = lastContactAt
        self.builtInNode = builtInNode
    }

    /// The name of `node`'s built-in worker.
    public static func builtInName(node: String) -> String { "builtin-\(node)" }

    public enum Status: String, Sendable, Hashable, Codable {
        case healthy
        case unreachable
    }

    public func status(at now: Date) -> Status {
        guard let lastContactAt, now.timeIntervalSince(lastContactAt) < Self.unreachableAfter else { return .unreachable }
        return .healthy
    }
}

/// The secrets of workers: registration tokens (one active per pool, shown once) and the
/// credentials workers get when they register. Both are stored as SHA-256 hashes only.
public enum WorkerSecret {
    public static let registrationTokenPrefix = "berthwr_"
    public static let credentialPrefix = "berthwk_"
}

/// A pool's registration token as stored: its hash and a prefix to recognise it by.
public struct WorkerRegistrationToken: Sendable, Hashable {
    public var id: String
    public var poolID: String
    public var prefix: String
    public var hash: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(
        id: String = RecordID.make("wrt"), poolID: String, prefix: String, hash: String, createdAt: Date,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.poolID = poolID
        self.prefix = prefix
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A step job as the store keeps it between the node that planned it and the worker that runs it:
/// the job itself sealed (it holds credentials), who has it, until when, and its outcome once
/// reported (sealed too: outputs may be sensitive).
public struct StepJobRecord: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Waiting for a worker of its pool.
        case queued
        /// A worker has it, under a lease it renews.
        case running
        /// Its worker reported the outcome.
        case finished
        /// Its worker stopped renewing its lease, or its node gave it up; nothing more is taken from it.
        case abandoned
    }

    public var id: String
    public var taskID: String
    public var key: StepProgress.Key
    public var poolID: String
    public var state: State
    public var sealedJob: String
    public var workerID: String?
    public var workerName: String?
    public var leaseExpiresAt: Date?
    public var cancelRequested: Bool
    public var sealedOutcome: String?
    public var createdAt: Date
    public var claimedAt: Date?
    public var finishedAt: Date?

    public init(
        id: String = RecordID.make("job"), taskID: String, key: StepProgress.Key, poolID: String, state: State = .queued,
        sealedJob: String, workerID: String? = nil, workerName: String? = nil, leaseExpiresAt: Date? = nil,
        cancelRequested: Bool = false, sealedOutcome: String? = nil, createdAt: Date, claimedAt: Date? = nil,
        finishedAt: Date? = nil
    ) {
        self.id = id
        self.taskID = taskID
        self.key = key
        self.poolID = poolID
        self.state = state
        self.sealedJob = sealedJob
        self.workerID = workerID
        self.workerName = workerName
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.sealedOutcome = sealedOutcome
        self.createdAt = createdAt
        self.claimedAt = claimedAt
        self.finishedAt = finishedAt
    }
}

/// A log line a worker sent for its job, masked on the worker, waiting for the node that holds the
/// task to write it into the task's log.
public struct StepJobLogLine: Sendable, Hashable, Codable {
    public var level: LogLevel
    public var section: String?
    public var message: String

    public init(level: LogLevel, section: String?, message: String) {
        self.level = level
        self.section = section
        self.message = message
    }
}
