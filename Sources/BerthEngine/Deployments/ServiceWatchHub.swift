import AWSCore
import AWSECS
import BerthDomain
import Foundation
import Logging

/// One poller per cluster, region and identity, shared by every deployment that waits on a service
/// of that cluster: each interval it describes all watched services in batches of ten (ECS's
/// limit per DescribeServices call) and hands each watcher its service. Fifty deployments onto one
/// cluster cost five calls per interval, not fifty.
actor ServiceWatchHub {
    struct Key: Hashable, Sendable {
        var region: String
        var cluster: String
        var identity: String
    }

    /// What a watcher receives each interval.
    enum Update: Sendable {
        case service(ECS.Service)
        /// ECS no longer knows the service (DescribeServices lists it under failures).
        case missing(String)
        /// The call failed after the client's retries.
        case failed(String)
    }

    private var pollers: [Key: ClusterPoller] = [:]
    let interval: Duration
    let clock: any AWSClock
    let logger: Logger

    init(interval: Duration, clock: any AWSClock, logger: Logger) {
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Updates of `service` every interval until the stream's consumer stops.
    func watch(_ service: String, key: Key, ecs: ECSClient) -> AsyncStream<Update> {
        let poller: ClusterPoller
        if let existing = pollers[key] {
            poller = existing
        } else {
            poller = ClusterPoller(cluster: key.cluster, ecs: ecs, interval: interval, clock: clock, logger: logger)
            pollers[key] = poller
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Update.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        continuation.onTermination = { _ in Task { await poller.unsubscribe(service, id: id) } }
        Task { await poller.subscribe(service, id: id, continuation: continuation) }
        return stream
    }
}

/// Polls the services of one cluster while anyone watches them.
actor ClusterPoller {
    let cluster: String
    let ecs: ECSClient
    let interval: Duration
    let clock: any AWSClock
    let logger: Logger
    private var subscribers: [String: [UUID: AsyncStream<ServiceWatchHub.Update>.Continuation]] = [:]
    private var loop: Task<Void, Never>?

    init(cluster: String, ecs: ECSClient, interval: Duration, clock: any AWSClock, logger: Logger) {
        self.cluster = cluster
        self.ecs = ecs
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    func subscribe(_ service: String, id: UUID, continuation: AsyncStream<ServiceWatchHub.Update>.Continuation) {
        subscribers[service, default: [:]][id] = continuation
        if loop == nil {
            loop = Task { await self.run() }
        }
    }

    func unsubscribe(_ service: String, id: UUID) {
        subscribers[service]?[id] = nil
        if subscribers[service]?.isEmpty == true { subscribers[service] = nil }
    }

    private func run() async {
        while !subscribers.isEmpty {
            try? await clock.sleep(for: interval)
            await pollOnce()
        }
        loop = nil
    }

    private func pollOnce() async {
        let names = subscribers.keys.sorted()
        for start in stride(from: 0, to: names.count, by: 10) {
            let batch = Array(names[start..<min(start + 10, names.count)])
            let answer: ECS.DescribeServicesResponse
            do {
                answer = try await ecs.describeServices(ECS.DescribeServicesRequest(services: batch, cluster: cluster))
            } catch {
                for name in batch { deliver(.failed("DescribeServices failed: \(error)"), to: name) }
                continue
            }
            for service in answer.services ?? [] {
                if let name = service.serviceName {
                    deliver(.service(service), to: name)
                }
            }
            for failure in answer.failures ?? [] {
                let name = failure.arn?.split(separator: "/").last.map(String.init) ?? ""
                if subscribers[name] != nil { deliver(.missing(failure.reason ?? "MISSING"), to: name) }
            }
        }
    }

    private func deliver(_ update: ServiceWatchHub.Update, to service: String) {
        for continuation in (subscribers[service] ?? [:]).values { continuation.yield(update) }
    }
}
