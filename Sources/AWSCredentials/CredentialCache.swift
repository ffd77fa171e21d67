import AWSCore
import AWSSigV4
import Foundation
import Logging

/// Caches what a resolver returns and refreshes it single-flight before it expires.
///
/// - Credentials are refreshed once they are within `refreshWindow` (5 minutes) of expiry; callers
///   that arrive during a refresh wait for the same one, so 1,000 concurrent callers cause one STS call.
/// - A failed refresh never replaces good credentials: while the old ones are still valid they keep
///   being served (and the refresh is tried again after `retryAfterFailure`); the error is never cached.
/// - Credentials without an expiry (long-lived keys) are kept until `invalidate()`.
public actor CredentialCache: CredentialProvider {
    public let resolver: any CredentialResolver
    public let refreshWindow: TimeInterval
    public let retryAfterFailure: TimeInterval
    let clock: any AWSClock
    let logger: Logger

    private var cached: CredentialResolution?
    private var refresh: (id: Int, task: Task<CredentialResolution, any Error>)?
    private var nextRefreshID = 0
    private var lastFailure: Date?

    public init(
        resolver: any CredentialResolver, clock: any AWSClock = SystemClock(), refreshWindow: TimeInterval = 300,
        retryAfterFailure: TimeInterval = 10, logger: Logger = Logger(label: "berth.aws.credentials")
    ) {
        self.resolver = resolver
        self.clock = clock
        self.refreshWindow = refreshWindow
        self.retryAfterFailure = retryAfterFailure
        self.logger = logger
    }

    public func credentials() async throws -> Credentials {
        try await resolution().credentials
    }

    /// The cached resolution, refreshed first when it is missing or about to expire.
    public func resolution() async throws -> CredentialResolution {
        let now = clock.now()
        if let cached, cached.credentials.isValid(at: now, margin: refreshWindow) {
            return cached
        }
        if let refresh {
            return try await finish(refresh)
        }
        if let cached, cached.credentials.isValid(at: now), let lastFailure,
            now.timeIntervalSince(lastFailure) < retryAfterFailure
        {
            return cached
        }
        nextRefreshID += 1
        let started = (id: nextRefreshID, task: Task { [resolver] in try await resolver.resolve() })
        refresh = started
        return try await finish(started)
    }

    /// Forgets the cached credentials, e.g. after AWS answered `ExpiredToken`.
    public func invalidate() {
        cached = nil
        lastFailure = nil
    }

    private func finish(_ started: (id: Int, task: Task<CredentialResolution, any Error>)) async throws -> CredentialResolution {
        do {
            let fresh = try await started.task.value
            if refresh?.id == started.id {
                refresh = nil
                cached = fresh
                lastFailure = nil
            }
            return fresh
        } catch {
            if refresh?.id == started.id {
                refresh = nil
                lastFailure = clock.now()
            }
            if let cached, cached.credentials.isValid(at: clock.now()) {
                logger.warning(
                    "Credential refresh failed; serving the previous credentials until they expire",
                    metadata: [
                        "aws.credentials.expiration":
                            "\(cached.credentials.expiration.map(AWSTimestamp.formatISO8601) ?? "never")",
                        "aws.error": "\(error)",
                    ])
                return cached
            }
            throw error
        }
    }
}

/// One `CredentialCache` per identity, so that every health check or step that uses the same
/// account, role and external ID shares one set of credentials and one refresh.
public actor CredentialCacheRegistry {
    private var caches: [String: CredentialCache] = [:]
    let clock: any AWSClock

    public init(clock: any AWSClock = SystemClock()) {
        self.clock = clock
    }

    /// The cache for `identity`, created with `makeResolver` the first time.
    ///
    /// - Parameter identity: a key that differs whenever the credentials would (source, role ARN,
    ///   external ID, duration…). Do not put secrets in it in clear text.
    public func cache(for identity: String, makeResolver: () throws -> any CredentialResolver) rethrows -> CredentialCache {
        if let existing = caches[identity] { return existing }
        let cache = CredentialCache(resolver: try makeResolver(), clock: clock)
        caches[identity] = cache
        return cache
    }

    public var count: Int { caches.count }
}
