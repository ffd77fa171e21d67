import AWSCore
import Foundation

/// Says in a step's log that AWS is throttling (or briefly unavailable) while the step keeps
/// waiting — at most once per `every`, so a long stretch of throttling does not flood the log.
struct ThrottleNotice: Sendable {
    var every: TimeInterval = 60
    private(set) var lastSaid: Date?

    /// The line to log for `error` at `now`, or nil when one was logged less than `every` ago.
    mutating func line(for message: String, throttling: Bool, at now: Date) -> String? {
        if let lastSaid, now.timeIntervalSince(lastSaid) < every { return nil }
        lastSaid = now
        let what = throttling ? "AWS is throttling Berth's calls" : "AWS did not answer (a server or connection error)"
        return "\(what): \(message). Berth keeps waiting until the step's own timeout (this is said at most once a minute)."
    }

    /// Whether `error` may go away when asked again later: throttling, a 5xx answer, a connection error.
    static func isRetryable(_ error: any Error) -> Bool { RetryPolicy.classify(error) != nil }

    static func isThrottling(_ error: any Error) -> Bool { RetryPolicy.classify(error) == .throttling }
}
