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
