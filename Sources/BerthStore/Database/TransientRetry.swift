import Logging

/// Retries a database write that failed for a reason that passes by itself — a lock held longer
/// than the busy timeout, a lost connection, a serialization conflict — with a doubling pause.
/// Any other failure, or the last attempt's, is thrown at once.
///
/// ```swift
/// let retry = TransientRetry(sleep: { try await clock.sleep(for: $0) })
/// try await retry.run("finish the task", logger: logger) { try await store.finishTask(...) }
/// ```
public struct TransientRetry: Sendable {
    /// How many times the write is tried in all.
    public var attempts: Int
    public var firstPause: Duration
    public var longestPause: Duration
    /// Waits between attempts (the engine's clock, so that tests never sleep).
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        attempts: Int = 8, firstPause: Duration = .milliseconds(200), longestPause: Duration = .seconds(10),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.attempts = attempts
        self.firstPause = firstPause
        self.longestPause = longestPause
        self.sleep = sleep
    }

    /// Runs `body`, and again after each transient failure, up to `attempts` times; each retry is
    /// logged as a warning naming `what`.
    public func run<T: Sendable>(
        _ what: String, logger: Logger, metadata: Logger.Metadata = [:], _ body: () async throws -> T
    ) async throws -> T {
        var pause = firstPause
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch  where attempt < attempts && DatabaseFailure(classifying: error) == .transient {
                var details = metadata
                details["database.write"] = "\(what)"
                details["database.attempt"] = "\(attempt)"
                details["error"] = "\(String(describing: error))"
                logger.warning("A database write failed for a passing reason; trying again", metadata: details)
                try await sleep(pause)
                pause = min(pause * 2, longestPause)
                attempt += 1
            }
        }
    }
}
