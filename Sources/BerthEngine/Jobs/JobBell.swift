import Foundation
import Synchronization

/// Rings when this node queues a step job, so that workers long-polling this node get it at once;
/// a job queued by another node is found by the claim's own periodic look at the database.
public final class JobBell: Sendable {
    private let waiters = Mutex<[UInt64: CheckedContinuation<Void, Never>]>([:])
    private let nextID = Atomic<UInt64>(0)

    public init() {}

    /// Wakes every current ``wait(atMost:)``.
    public func ring() {
        let woken = waiters.withLock { waiters in
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns at the next ring, after `limit`, or when the calling task is cancelled.
    public func wait(atMost limit: Duration) async {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.waiters.withLock { waiters -> Bool in
                            if Task.isCancelled { return true }
                            waiters[id] = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.waiters.withLock { $0.removeValue(forKey: id) }?.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }
}
