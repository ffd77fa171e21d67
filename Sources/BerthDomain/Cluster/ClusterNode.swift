import Foundation

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
