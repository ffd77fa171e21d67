import AWSCore
import BerthDev
import Foundation
import Synchronization

/// A clock whose `sleep` suspends until the test moves the time past its deadline, for testing
/// schedules without waiting.
public final class ManualClock: AWSClock {
    private struct Sleeper {
        var id: Int
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let state: Mutex<(now: Date, sleepers: [Sleeper], nextID: Int)>

    public init(now: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        state = Mutex((now, [], 0))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many sleeps are waiting.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = Task.isCancelled
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                state.withLock {
                    $0.sleepers.append(
                        Sleeper(id: id, deadline: $0.now.addingTimeInterval(duration.timeInterval), continuation: continuation))
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the time forward and wakes every sleep whose deadline has come.
    public func advance(by seconds: TimeInterval) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.addingTimeInterval(seconds)
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (yielding, not sleeping) until `count` sleeps are pending; throws instead of hanging
    /// when they never come.
    public func waitForSleepers(_ count: Int = 1) async throws {
        for _ in 0..<1_000_000 where sleeperCount < count { await Task.yield() }
        guard sleeperCount >= count else {
            throw TestSupportError("\(count) sleep(s) were expected on the manual clock; \(sleeperCount) came")
        }
    }
}
