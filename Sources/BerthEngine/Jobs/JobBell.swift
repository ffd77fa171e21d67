import Foundation
import Synchronization

/// Rings when something happens to step jobs on this node, so that whoever waits for it hears at
/// once: a worker long-polling for a job hears that this node queued one (``ring(_:)`` without a
/// key), the node following a job hears that its worker sent lines, progress or its outcome through
/// this node (the job's id as key). What happens through another node is found by the waiter's own
/// periodic look at the database, at the end of ``wait(for:atMost:)``.
public final class JobBell: Sendable {
    /// The key of "a job was queued".
    public static let queued = ""

    private let waiters = Mutex<[UInt64: (key: String, continuation: CheckedContinuation<Void, Never>)]>([:])
    private let nextID = Atomic<UInt64>(0)

    public init() {}

    /// Wakes every current ``wait(for:atMost:)`` on `key`.
    public func ring(_ key: String = JobBell.queued) {
        let woken = waiters.withLock { waiters in
            let ids = waiters.filter { $0.value.key == key }.map(\.key)
            return ids.compactMap { waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns at the next ring of `key`, after `limit`, or when the calling task is cancelled.
    public func wait(for key: String = JobBell.queued, atMost limit: Duration) async {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.waiters.withLock { waiters -> Bool in
                            if Task.isCancelled { return true }
                            waiters[id] = (key, continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.waiters.withLock { $0.removeValue(forKey: id) }?.continuation.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }
}
