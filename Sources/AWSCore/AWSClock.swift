import Foundation

/// Wall-clock time and sleeping, injected so that expiry, retries and polling are testable without
/// waiting.
public protocol AWSClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Suspends for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemClock: AWSClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
