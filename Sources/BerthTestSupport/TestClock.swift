import AWSCore
import BerthDev
import Foundation
import Synchronization

/// A clock that moves only when told to. `sleep` returns at once, advances the time by the
/// duration and records it, so waiting logic is tested without waiting.
public final class TestClock: AWSClock {
    private let state: Mutex<(now: Date, sleeps: [Duration])>

    public init(now: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        state = Mutex((now, []))
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func advance(by seconds: TimeInterval) {
        state.withLock { $0.now = $0.now.addingTimeInterval(seconds) }
    }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.sleeps.append(duration)
            $0.now = $0.now.addingTimeInterval(duration.timeInterval)
        }
    }

    /// Every duration `sleep` was asked for, in order.
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }
}
