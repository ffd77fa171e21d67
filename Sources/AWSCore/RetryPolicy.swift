import Foundation
import Synchronization

/// The "standard" retry mode of the AWS SDKs: a few attempts, exponential backoff with full jitter,
/// and a shared quota that stops retry storms when a service is down.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first one included.
    public var maxAttempts: Int
    /// The longest wait before one retry.
    public var maxBackoff: Duration
    /// A random number in `0..<1`; injected so tests can pin the jitter.
    public var random: @Sendable () -> Double

    public init(
        maxAttempts: Int = 3, maxBackoff: Duration = .seconds(20),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.maxBackoff = maxBackoff
        self.random = random
    }

    public static let standard = RetryPolicy()
    /// One attempt, no retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Why an error may be retried.
    public enum ErrorKind: Sendable, Hashable {
        case throttling
        case transient
        case timeout
    }

    public enum Decision: Sendable, Equatable {
        /// Wait `delay`, then try again; `cost` tokens were taken from the quota.
        case retry(after: Duration, cost: Int)
        case doNotRetry(reason: String)
    }

    /// How `error` can be retried, or `nil` when retrying cannot help.
    public static func classify(_ error: any Error) -> ErrorKind? {
        switch error {
        case let error as AWSError:
            if error.isThrottling { return .throttling }
            if AWSErrorCode.transientCodes.contains(error.code) || [500, 502, 503, 504].contains(error.statusCode) {
                return .transient
            }
            return nil
        case let error as AWSClientError:
            switch error.code {
            case .connectionFailed: return .transient
            case .timedOut: return .timeout
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The decision after attempt number `attempt` (1-based) failed with `error`.
    public func decide(after error: any Error, attempt: Int, quota: RetryQuota) -> Decision {
        guard let kind = Self.classify(error) else { return .doNotRetry(reason: "the error is not retryable") }
        guard attempt < maxAttempts else { return .doNotRetry(reason: "\(maxAttempts) attempts made") }
        let cost = kind == .timeout ? RetryQuota.timeoutRetryCost : RetryQuota.retryCost
        guard quota.acquire(cost) else { return .doNotRetry(reason: "the retry quota is exhausted") }
        return .retry(after: backoff(attempt: attempt), cost: cost)
    }

    /// Full jitter: a random share of `min(2^(attempt-1) s, maxBackoff)`.
    public func backoff(attempt: Int) -> Duration {
        let ceiling = min(Double(1 << min(attempt - 1, 30)), maxBackoff.timeInterval)
        let seconds = random() * ceiling
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

/// The retry tokens shared by every call of a client: a retry costs tokens, a success returns some,
/// and when none are left failing calls stop retrying at once.
public final class RetryQuota: Sendable {
    public static let initialTokens = 500
    public static let retryCost = 5
    public static let timeoutRetryCost = 10
    public static let successIncrement = 1

    private let tokens: Mutex<Int>
    private let capacity: Int

    public init(tokens: Int = RetryQuota.initialTokens) {
        self.tokens = Mutex(tokens)
        self.capacity = tokens
    }

    public var available: Int { tokens.withLock { $0 } }

    /// Takes `cost` tokens if there are enough.
    public func acquire(_ cost: Int) -> Bool {
        tokens.withLock { tokens in
            guard tokens >= cost else { return false }
            tokens -= cost
            return true
        }
    }

    /// Records a success: a retried call gives back what its last retry cost, a first-try success adds one.
    public func release(retryCost: Int?) {
        tokens.withLock { tokens in
            tokens = min(capacity, tokens + (retryCost ?? Self.successIncrement))
        }
    }
}
