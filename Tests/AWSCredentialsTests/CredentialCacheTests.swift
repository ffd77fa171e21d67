import AWSCore
import AWSCredentials
import AWSECS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

/// A resolver that counts its calls, hands out credentials valid for `lifetime` seconds from the
/// test clock's now, and fails when told to.
final class CountingResolver: CredentialResolver {
    let clock: TestClock
    let lifetime: TimeInterval
    private let state = Mutex<(calls: Int, failing: Bool)>((0, false))

    init(clock: TestClock, lifetime: TimeInterval = 3600) {
        self.clock = clock
        self.lifetime = lifetime
    }

    var calls: Int { state.withLock { $0.calls } }
    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func resolve() async throws -> CredentialResolution {
        let (number, failing) = state.withLock { state -> (Int, Bool) in
            state.calls += 1
            return (state.calls, state.failing)
        }
        // Stay in flight long enough for concurrent callers to pile up behind this refresh.
        try await Task.sleep(for: .milliseconds(20))
        if failing {
            throw CredentialResolutionError(message: "STS is down", trace: CredentialTrace(), awsErrorCode: "ServiceUnavailable")
        }
        let credentials = Credentials(
            accessKeyID: "ASIA\(number)", secretAccessKey: "s\(number)", sessionToken: "t\(number)",
            expiration: clock.now().addingTimeInterval(lifetime))
        return CredentialResolution(credentials: credentials, trace: CredentialTrace(), source: "counting #\(number)")
    }
}

@Suite("Credential cache: single flight, early refresh, failures")
struct CredentialCacheTests {
    @Test("1,000 concurrent callers cause one resolution")
    func singleFlight() async throws {
        let clock = TestClock()
        let resolver = CountingResolver(clock: clock)
        let cache = CredentialCache(resolver: resolver, clock: clock)
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<1000 { group.addTask { try await cache.credentials().accessKeyID } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(resolver.calls == 1)
        #expect(keys == ["ASIA1"])
    }

    @Test("credentials are reused until 5 minutes before expiry, then refreshed once")
    func refreshWindow() async throws {
        let clock = TestClock()
        let resolver = CountingResolver(clock: clock, lifetime: 3600)
        let cache = CredentialCache(resolver: resolver, clock: clock)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        clock.advance(by: 3600 - 301)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        clock.advance(by: 2)
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        #expect(try await cache.credentials().accessKeyID == "ASIA2")
        #expect(resolver.calls == 2)
    }

    @Test("a failed refresh keeps serving still-valid credentials and is retried later")
    func failedRefreshServesOld() async throws {
        let clock = TestClock()
        let resolver = CountingResolver(clock: clock, lifetime: 3600)
        let cache = CredentialCache(resolver: resolver, clock: clock, retryAfterFailure: 10)
        _ = try await cache.credentials()
        clock.advance(by: 3400)
        resolver.setFailing(true)
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        #expect(try await cache.credentials().accessKeyID == "ASIA1")
        #expect(resolver.calls == 2, "no second attempt within the back-off")
        clock.advance(by: 11)
        resolver.setFailing(false)
        #expect(try await cache.credentials().accessKeyID == "ASIA3")
    }

    @Test("once expired, a failure is thrown, and the error is never cached")
    func errorsAreNotCached() async throws {
        let clock = TestClock()
        let resolver = CountingResolver(clock: clock, lifetime: 3600)
        let cache = CredentialCache(resolver: resolver, clock: clock)
        resolver.setFailing(true)
        await #expect(throws: CredentialResolutionError.self) { try await cache.credentials() }
        resolver.setFailing(false)
        #expect(try await cache.credentials().accessKeyID == "ASIA2")

        clock.advance(by: 3601)
        resolver.setFailing(true)
        await #expect(throws: CredentialResolutionError.self) { try await cache.credentials() }
        #expect(resolver.calls == 3)
    }

    @Test("the registry hands out one cache per identity")
    func registry() async throws {
        let clock = TestClock()
        let registry = CredentialCacheRegistry(clock: clock)
        let resolver = CountingResolver(clock: clock)
        let first = await registry.cache(for: "account:1|role:A") { resolver }
        let again = await registry.cache(for: "account:1|role:A") { resolver }
        let other = await registry.cache(for: "account:1|role:B") { resolver }
        #expect(first === again)
        #expect(first !== other)
        _ = try await first.credentials()
        _ = try await again.credentials()
        #expect(resolver.calls == 1)
        #expect(await registry.count == 2)
    }
}

@Suite("Expired credentials during a call")
struct ExpiredTokenTests {
    @Test("ExpiredToken from AWS invalidates the cache and the call is retried once with fresh credentials")
    func refreshesOnExpiredToken() async throws {
        let seenKeys = Mutex<[String]>([])
        let router = Router()
        router.post("/") { request, _ -> Response in
            let authorization = request.headers[.authorization] ?? ""
            let key = authorization.split(separator: "=").dropFirst().first?.split(separator: "/").first.map(String.init) ?? ""
            seenKeys.withLock { $0.append(key) }
            if key == "ASIA1" {
                return .text(
                    #"{"__type":"ExpiredTokenException","message":"The security token included in the request is expired"}"#,
                    status: .badRequest)
            }
            return .text(#"{"clusterArns":[]}"#)
        }
        let clock = TestClock()
        let resolver = CountingResolver(clock: clock)
        let cache = CredentialCache(resolver: resolver, clock: clock)
        try await withLocalServer(router) { url in
            let ecs = ECSClient(
                client: try AWSClient(
                    service: .ecs, region: "us-east-1", credentialProvider: cache, environment: ["AWS_ENDPOINT_URL": url],
                    retryPolicy: .none, clock: clock))
            _ = try await ecs.listClusters(.init())
        }
        #expect(seenKeys.withLock { $0 } == ["ASIA1", "ASIA2"])
        #expect(resolver.calls == 2)
    }
}
