import AWSCore
import AWSECS
import BerthDomain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// One poller per cluster, region and identity, shared by every deployment that waits on a service
/// of that cluster: each tick it describes all watched services in batches of ten (ECS's limit per
/// DescribeServices call) and hands each watcher its service. Fifty deployments onto one cluster
/// cost five calls per tick, not fifty. When it ticks is ``PollSchedule``'s decision: every second
/// while a watched rollout is young, then backing off to the configured interval.
///
/// The hub is a `Service`: the pollers are child tasks of its `run()`, started when the first
/// watcher of a cluster arrives and ended when the last one leaves.
public final class ServiceWatchHub: Service {
    struct Key: Hashable, Sendable {
        var region: String
        var cluster: String
        var identity: String
    }

    /// Why a tick could not describe the services.
    struct PollFailure: Sendable, Hashable {
        var message: String
        /// Throttling, a 5xx answer or a connection error: asking again later may work.
        var isRetryable: Bool
        var isThrottling: Bool

        init(_ error: any Error) {
            message = "DescribeServices failed: \(error)"
            let kind = RetryPolicy.classify(error)
            isRetryable = kind != nil
            isThrottling = kind == .throttling
        }
    }

    /// What a watcher receives each tick.
    enum Update: Sendable {
        case service(ECS.Service)
        /// ECS no longer knows the service (DescribeServices lists it under failures).
        case missing(String)
        /// The call failed after the client's retries.
        case failed(PollFailure)
    }

    private struct Watcher {
        var service: String
        var continuation: AsyncStream<Update>.Continuation
    }

    private struct Cluster {
        var ecs: ECSClient
        var watchers: [Int: Watcher] = [:]
        var schedule: PollSchedule
    }

    private struct State {
        var clusters: [Key: Cluster] = [:]
        var nextID = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let starts = AsyncStream.makeStream(of: Key.self)
    let settings: PollSchedule.Settings
    let clock: any AWSClock
    let logger: Logger

    /// - Parameter interval: the configured poll interval, the longest gap between two ticks.
    public init(interval: Duration, clock: any AWSClock, logger: Logger) {
        self.settings = PollSchedule.Settings(ceiling: interval)
        self.clock = clock
        self.logger = logger
    }

    /// Updates of `service` every tick until the stream's consumer stops; the stream ends at once
    /// when the hub has stopped.
    func watch(_ service: String, key: Key, ecs: ECSClient) -> AsyncStream<Update> {
        let (stream, continuation) = AsyncStream.makeStream(of: Update.self, bufferingPolicy: .bufferingNewest(1))
        let now = clock.now()
        let subscription = state.withLock { state -> (id: Int, isFirst: Bool)? in
            guard !state.stopped else { return nil }
            state.nextID += 1
            let id = state.nextID
            let isFirst = state.clusters[key] == nil
            if isFirst { state.clusters[key] = Cluster(ecs: ecs, schedule: PollSchedule(settings: settings)) }
            state.clusters[key]?.watchers[id] = Watcher(service: service, continuation: continuation)
            state.clusters[key]?.schedule.watchStarted(id, at: now)
            return (id, isFirst)
        }
        guard let subscription else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(subscription.id, key: key) }
        if subscription.isFirst { starts.continuation.yield(key) }
        return stream
    }

    private func unsubscribe(_ id: Int, key: Key) {
        state.withLock { state in
            state.clusters[key]?.watchers[id] = nil
            state.clusters[key]?.schedule.watchEnded(id)
        }
    }

    /// Runs the pollers until shutdown; then every watcher's stream ends.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await key in starts.stream {
                    group.addTask { await self.poll(key) }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.starts.continuation.finish()
        }
        let watchers = state.withLock { state in
            state.stopped = true
            defer { state.clusters = [:] }
            return state.clusters.values.flatMap { $0.watchers.values.map(\.continuation) }
        }
        for continuation in watchers { continuation.finish() }
    }

    /// The poller of one cluster: ticks when the schedule says, until nobody watches.
    private func poll(_ key: Key) async {
        while true {
            if Task.isCancelled {
                finishWatchers(of: key)
                return
            }
            let now = clock.now()
            let next = state.withLock { state -> (action: PollSchedule.Action, ecs: ECSClient?, services: [String]) in
                guard let cluster = state.clusters[key] else { return (.stop, nil, []) }
                let services = Set(cluster.watchers.values.map(\.service)).sorted()
                let action = cluster.schedule.nextAction(at: now, services: services.count)
                switch action {
                case .stop: state.clusters[key] = nil
                case .poll: state.clusters[key]?.schedule.polled(at: now)
                case .wait: break
                }
                return (action, cluster.ecs, services)
            }
            switch next.action {
            case .stop:
                return
            case .wait(let duration):
                do {
                    try await clock.sleep(for: duration)
                } catch {
                    finishWatchers(of: key)
                    return
                }
            case .poll:
                if let ecs = next.ecs { await tick(key, services: next.services, ecs: ecs) }
            }
        }
    }

    private func tick(_ key: Key, services names: [String], ecs: ECSClient) async {
        for start in stride(from: 0, to: names.count, by: settings.servicesPerCall) {
            let batch = Array(names[start..<min(start + settings.servicesPerCall, names.count)])
            let answer: ECS.DescribeServicesResponse
            do {
                answer = try await ecs.describeServices(ECS.DescribeServicesRequest(services: batch, cluster: key.cluster))
            } catch {
                let failure = PollFailure(error)
                for name in batch { deliver(.failed(failure), to: name, key: key) }
                continue
            }
            for service in answer.services ?? [] {
                if let name = service.serviceName { deliver(.service(service), to: name, key: key) }
            }
            for failure in answer.failures ?? [] {
                let name = failure.arn?.split(separator: "/").last.map(String.init) ?? ""
                if batch.contains(name) { deliver(.missing(failure.reason ?? "MISSING"), to: name, key: key) }
            }
        }
    }

    /// Yields outside the lock: a consumer that has gone away unsubscribes from inside `yield`.
    private func deliver(_ update: Update, to service: String, key: Key) {
        let continuations = state.withLock { state in
            (state.clusters[key].map { Array($0.watchers.values) } ?? []).filter { $0.service == service }.map(\.continuation)
        }
        for continuation in continuations { continuation.yield(update) }
    }

    private func finishWatchers(of key: Key) {
        let continuations = state.withLock { state in
            defer { state.clusters[key] = nil }
            return (state.clusters[key].map { Array($0.watchers.values) } ?? []).map(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }
}
