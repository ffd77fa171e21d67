import Foundation

/// Who holds a task's lease: a server node, by name, in one run of its process.
///
/// The name is the node's lasting identity (`--node-name`); the instance tells this run of the
/// process from an earlier one with the same name, whose work died with it: a restarted node takes
/// over the tasks its previous run left at once, without waiting for their leases to run out.
public struct TaskOwner: Sendable, Hashable, CustomStringConvertible {
    public var node: String
    public var instance: String

    public init(node: String, instance: String = RecordID.make("run")) {
        self.node = node
        self.instance = instance
    }

    public var description: String { node }
}

/// A node of the cluster, as its heartbeat records it.
public struct ClusterNode: Sendable, Hashable {
    public var name: String
    public var host: String
    public var version: String
    public var startedAt: Date
    public var lastSeenAt: Date
    /// Tasks it was running at its last heartbeat, and the most it runs at once.
    public var running: Int
    public var taskCap: Int
    /// A draining node finishes its tasks and claims no new ones.
    public var draining: Bool

    public init(
        name: String, host: String, version: String, startedAt: Date, lastSeenAt: Date, running: Int, taskCap: Int,
        draining: Bool
    ) {
        self.name = name
        self.host = host
        self.version = version
        self.startedAt = startedAt
        self.lastSeenAt = lastSeenAt
        self.running = running
        self.taskCap = taskCap
        self.draining = draining
    }
}

/// What asking to cancel a task did.
public enum CancelResult: Sendable, Hashable {
    /// It was queued: it is cancelled now.
    case cancelled
    /// It is executing on `node`, which stops it when it next looks (within a second).
    case requested(node: String)
    /// It had already ended in `state`.
    case alreadyFinished(ServerTask.State)
}
