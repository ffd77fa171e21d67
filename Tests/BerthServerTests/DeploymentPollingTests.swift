import AWSCore
import AWSECS
import AWSSigV4
import BerthDev
import BerthDomain
import BerthTestSupport
import Foundation
import Logging
import Testing

@testable import BerthWorker

/// The completion check through the real AWS client against the fake ECS control plane.
@Suite("Shared ECS polling")
struct DeploymentPollingTests {
    /// Runs `body` while `hub` runs as it does in the server, then stops the hub.
    static func running<T: Sendable>(_ hub: ServiceWatchHub, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { try await hub.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    static func client(_ url: String) throws -> ECSClient {
        ECSClient(
            client: try AWSClient(
                service: .ecs, region: "eu-west-1",
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyID: "AKIATEST", secretAccessKey: "test-secret")),
                environment: ["AWS_ENDPOINT_URL": url]))
    }

    @Test(
        "With a 5 s interval, a young rollout is polled every second for its first minute, then less often up to 5 s (manual clock)"
    )
    func adaptivePolling() async throws {
        let fake = FakeECS(settings: .init(rolloutDuration: .seconds(3600)))
        try await withLocalServer(fake.router) { url in
            let ecs = try Self.client(url)
            let registered = try await ecs.registerTaskDefinition(
                ECS.RegisterTaskDefinitionRequest(
                    family: "web", containerDefinitions: [ECS.ContainerDefinition(name: "app", image: "shop/web:ok")]))
            let arn = try #require(registered.taskDefinition?.taskDefinitionArn)
            _ = try await ecs.createService(
                ECS.CreateServiceRequest(serviceName: "web", cluster: "prod", taskDefinition: arn, desiredCount: 1))
            let clock = ManualClock()
            let start = clock.now()
            let hub = ServiceWatchHub(interval: .seconds(5), clock: clock, logger: Logger(label: "test"))
            let key = ServiceWatchHub.Key(region: "eu-west-1", cluster: "prod", identity: "deployer")
            let times = try await Self.running(hub) {
                try await withThrowingTaskGroup(of: Void.self, returning: [Double].self) { group in
                    group.addTask {
                        for await update in hub.watch("web", key: key, ecs: ecs) {
                            guard case .service = update else { throw TestSupportError("unexpected update \(update)") }
                        }
                    }
                    var times: [Double] = []
                    var seen = fake.describeServicesBatches.count
                    for _ in 0..<150 {
                        try await clock.waitForSleepers(1)
                        clock.advance(by: 1)
                        try await clock.waitForSleepers(1)
                        let count = fake.describeServicesBatches.count
                        if count > seen { times.append(clock.now().timeIntervalSince(start)) }
                        #expect(count - seen <= 1, "one call per tick")
                        seen = count
                    }
                    group.cancelAll()
                    return times
                }
            }
            let firstMinute = times.filter { $0 <= 60 }
            #expect(firstMinute == (1...60).map(Double.init))
            let later = zip(times.filter { $0 >= 60 }, times.filter { $0 >= 60 }.dropFirst()).map { $1 - $0 }
            #expect(later.first == 2, "\(later)")
            #expect(zip(later, later.dropFirst()).allSatisfy { $0 <= $1 }, "\(later)")
            #expect(later.suffix(5).allSatisfy { $0 == 5 }, "\(later)")
            #expect(times.filter { $0 > 60 && $0 <= 120 }.count <= 30)
        }
    }

    @Test("One poller per cluster and identity serves every watcher in batches of ten, through throttling")
    func onePollerForManyServices() async throws {
        let fake = FakeECS(settings: .init(rolloutDuration: .milliseconds(400), throttleEvery: 5))
        try await withLocalServer(fake.router) { url in
            let ecs = ECSClient(
                client: try AWSClient(
                    service: .ecs, region: "eu-west-1",
                    credentialProvider: StaticCredentialProvider(
                        Credentials(accessKeyID: "AKIATEST", secretAccessKey: "test-secret")),
                    environment: ["AWS_ENDPOINT_URL": url]))
            let registered = try await ecs.registerTaskDefinition(
                ECS.RegisterTaskDefinitionRequest(
                    family: "web", containerDefinitions: [ECS.ContainerDefinition(name: "app", image: "shop/web:ok")]))
            let arn = try #require(registered.taskDefinition?.taskDefinitionArn)
            let names = (0..<23).map { "svc-\($0)" }
            for name in names {
                _ = try await ecs.createService(
                    ECS.CreateServiceRequest(serviceName: name, cluster: "prod", taskDefinition: arn, desiredCount: 2))
            }
            let hub = ServiceWatchHub(interval: .milliseconds(50), clock: SystemClock(), logger: Logger(label: "test"))
            let key = ServiceWatchHub.Key(region: "eu-west-1", cluster: "prod", identity: "deployer")
            let started = ContinuousClock.now
            let callsBefore = fake.describeServicesBatches.count
            let verdicts = try await Self.running(hub) {
                try await withThrowingTaskGroup(of: RolloutVerdict.self) { group in
                    for name in names {
                        group.addTask {
                            var tracker = RolloutTracker(taskDefinition: arn, startedAt: Date(), timeout: .seconds(30))
                            for await update in hub.watch(name, key: key, ecs: ecs) {
                                guard case .service(let service) = update else { continue }
                                let verdict = tracker.observe(ServiceObservation(service), at: Date())
                                if verdict.isFinal { return verdict }
                            }
                            return .failed("the updates ended")
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let elapsed = (ContinuousClock.now - started).timeInterval
            #expect(verdicts.count == 23)
            #expect(verdicts.allSatisfy { if case .succeeded = $0 { true } else { false } }, "\(verdicts)")
            let batches = Array(fake.describeServicesBatches.dropFirst(callsBefore))
            #expect(batches.max() == 10)
            // Twenty-three services take three calls per interval; one poller each would take 23.
            let intervals = elapsed / 0.05 + 2
            #expect(Double(batches.count) <= 3 * intervals, "\(batches.count) calls in \(elapsed) s")
            #expect(fake.throttledCalls > 0)
        }
    }
}
