import AWSCore
import Testing

@Suite("Standard retry mode decisions")
struct RetryPolicyTests {
    static func awsError(_ code: AWSErrorCode, status: Int = 400) -> AWSError {
        AWSError(code: code, message: "", requestID: nil, statusCode: status, operation: "Test")
    }

    @Test(
        "throttling, transient and 5xx errors are retried; client errors are not",
        arguments: [
            (awsError(.throttlingException), true),
            (awsError(.throttling), true),
            (awsError(.tooManyRequests), true),
            (awsError(.requestLimitExceeded), true),
            (awsError("SomethingElse", status: 429), true),
            (awsError("InternalError", status: 500), true),
            (awsError("HTTP502", status: 502), true),
            (awsError("ServiceUnavailable", status: 503), true),
            (awsError("HTTP504", status: 504), true),
            (awsError(.accessDenied, status: 403), false),
            (awsError(.clusterNotFound), false),
            (awsError(.signatureDoesNotMatch, status: 403), false),
            (awsError("HTTP501", status: 501), false),
        ])
    func retryableErrors(error: AWSError, retryable: Bool) {
        let policy = RetryPolicy(random: { 0.5 })
        let decision = policy.decide(after: error, attempt: 1, quota: RetryQuota())
        if retryable {
            #expect(decision == .retry(after: .milliseconds(500), cost: 5))
        } else {
            #expect(decision == .doNotRetry(reason: "the error is not retryable"))
        }
    }

    @Test("connection errors are retried, timeouts cost more quota")
    func connectionErrors() {
        let policy = RetryPolicy(random: { 1.0 })
        let quota = RetryQuota()
        #expect(
            policy.decide(after: AWSClientError(.connectionFailed, "refused"), attempt: 1, quota: quota)
                == .retry(after: .seconds(1), cost: 5))
        #expect(
            policy.decide(after: AWSClientError(.timedOut, "slow"), attempt: 2, quota: quota)
                == .retry(after: .seconds(2), cost: 10))
        #expect(quota.available == 485)
        #expect(
            policy.decide(after: AWSClientError(.invalidRegion, "x"), attempt: 1, quota: quota)
                == .doNotRetry(reason: "the error is not retryable"))
    }

    @Test("three attempts by default")
    func maxAttempts() {
        let policy = RetryPolicy(random: { 0 })
        let error = Self.awsError(.throttlingException)
        #expect(policy.decide(after: error, attempt: 2, quota: RetryQuota()) == .retry(after: .zero, cost: 5))
        #expect(policy.decide(after: error, attempt: 3, quota: RetryQuota()) == .doNotRetry(reason: "3 attempts made"))
    }

    @Test("backoff is full jitter over an exponential ceiling capped at 20 s")
    func backoff() {
        let full = RetryPolicy(maxAttempts: 10, random: { 0.999_999_999 })
        #expect(full.backoff(attempt: 1) < .seconds(1.0000001))
        #expect(full.backoff(attempt: 3) > .seconds(3.99))
        #expect(full.backoff(attempt: 3) <= .seconds(4))
        #expect(full.backoff(attempt: 6) <= .seconds(20))
        #expect(full.backoff(attempt: 6) > .seconds(19.99))
        let half = RetryPolicy(random: { 0.25 })
        #expect(half.backoff(attempt: 2) == .milliseconds(500))
        let none = RetryPolicy(random: { 0 })
        #expect(none.backoff(attempt: 5) == .zero)
    }

    @Test("an exhausted quota stops retries until successes refill it")
    func quota() {
        let quota = RetryQuota(tokens: 12)
        let policy = RetryPolicy(maxAttempts: 100, random: { 0 })
        let error = Self.awsError("InternalError", status: 500)
        #expect(policy.decide(after: error, attempt: 1, quota: quota) == .retry(after: .zero, cost: 5))
        #expect(policy.decide(after: error, attempt: 1, quota: quota) == .retry(after: .zero, cost: 5))
        #expect(policy.decide(after: error, attempt: 1, quota: quota) == .doNotRetry(reason: "the retry quota is exhausted"))
        quota.release(retryCost: 5)
        #expect(quota.available == 7)
        quota.release(retryCost: nil)
        #expect(quota.available == 8)
        quota.release(retryCost: 5)
        #expect(quota.available == 12, "never above the initial capacity")
    }
}
