import Foundation

/// How many tasks of each revision a service runs at one moment of a rollout: what the task page's
/// rollout chart is drawn from. The worker writes one into the task log (a verbose line) whenever
/// it changes; ``parse(_:)`` reads it back, and the two are tested together.
///
///     Rollout: demo-web:2 PRIMARY 1/2 running, 1 pending · demo-web:1 ACTIVE 2/2 running
public struct RolloutSnapshot: Sendable, Hashable {
    public struct Revision: Sendable, Hashable {
        /// `family:revision`.
        public var name: String
        /// PRIMARY (the rollout's target) or ACTIVE (an older one still running).
        public var status: String
        public var running: Int
        public var desired: Int
        public var pending: Int

        public init(name: String, status: String, running: Int, desired: Int, pending: Int = 0) {
            self.name = name
            self.status = status
            self.running = running
            self.desired = desired
            self.pending = pending
        }
    }

    public var revisions: [Revision]

    public init(revisions: [Revision]) {
        self.revisions = revisions
    }

    /// The service's deployments that still count (PRIMARY and ACTIVE), primary first.
    public init(_ observation: ServiceObservation) {
        revisions = observation.rollouts.filter { $0.status == "PRIMARY" || $0.status == "ACTIVE" }
            .sorted { ($0.status == "PRIMARY" ? 0 : 1) < ($1.status == "PRIMARY" ? 0 : 1) }
            .map {
                Revision(
                    name: RolloutTracker.revision(of: $0.taskDefinition), status: $0.status, running: $0.runningCount,
                    desired: $0.desiredCount, pending: $0.pendingCount)
            }
    }

    static let prefix = "Rollout: "

    /// The log line.
    public var line: String {
        Self.prefix
            + revisions.map {
                "\($0.name) \($0.status) \($0.running)/\($0.desired) running" + ($0.pending > 0 ? ", \($0.pending) pending" : "")
            }.joined(separator: " · ")
    }

    /// The snapshot a log line carries, if it is one.
    public static func parse(_ line: String) -> RolloutSnapshot? {
        guard line.hasPrefix(prefix) else { return nil }
        var revisions: [Revision] = []
        for part in line.dropFirst(prefix.count).components(separatedBy: " · ") {
            guard let match = part.wholeMatch(of: /(\S+) (PRIMARY|ACTIVE) (\d+)\/(\d+) running(?:, (\d+) pending)?/),
                let running = Int(match.output.3), let desired = Int(match.output.4)
            else { return nil }
            revisions.append(
                Revision(
                    name: String(match.output.1), status: String(match.output.2), running: running, desired: desired,
                    pending: match.output.5.flatMap { Int($0) } ?? 0))
        }
        return revisions.isEmpty ? nil : RolloutSnapshot(revisions: revisions)
    }
}
