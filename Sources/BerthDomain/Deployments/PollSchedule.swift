import Foundation

/// When a shared ECS poller asks next: often while a watched rollout is young, then less and less
/// often, up to the configured interval.
///
/// Most rollouts that finish quickly finish in their first minute, so for the first minute of the
/// youngest rollout watched on a cluster the poller asks every `fastInterval` (1 s); after that the
/// gap doubles every `backoffStep` (2 s, 4 s, …) until it reaches `ceiling`, the configured interval
/// (`--deployment-poll-interval`). One tick asks for every watched service, ten per call; a tick
/// that takes several calls waits one `fastInterval` per call, so a cluster costs at most one call
/// per `fastInterval` — 60 a minute — however many rollouts it has. The schedule is a value: it is
/// told what happened and answers what to do next, so it is tested without a clock.
///
/// ```swift
/// var schedule = PollSchedule(settings: .init(ceiling: .seconds(5)))
/// schedule.watchStarted(1, at: now)
/// switch schedule.nextAction(at: clock.now(), services: 1) {
/// case .poll: schedule.polled(at: clock.now()); …
/// case .wait(let duration): try await clock.sleep(for: duration)
/// case .stop: return
/// }
/// ```
public struct PollSchedule: Sendable, Hashable {
    public struct Settings: Sendable, Hashable {
        /// The longest gap between two polls: the configured interval.
        public var ceiling: Duration
        /// The gap while a rollout is young (never more than `ceiling`).
        public var fastInterval: Duration
        /// How long a rollout counts as young.
        public var youngFor: Duration
        /// After that, the gap doubles once per `backoffStep`.
        public var backoffStep: Duration
        /// ECS describes at most this many services per call.
        public var servicesPerCall: Int

        public init(
            ceiling: Duration, fastInterval: Duration = .seconds(1), youngFor: Duration = .seconds(60),
            backoffStep: Duration = .seconds(15), servicesPerCall: Int = 10
        ) {
            self.ceiling = ceiling
            self.fastInterval = min(fastInterval, ceiling)
            self.youngFor = youngFor
            self.backoffStep = backoffStep
            self.servicesPerCall = max(1, servicesPerCall)
        }
    }

    public enum Action: Sendable, Hashable {
        /// Ask ECS now (then call `polled(at:)`).
        case poll
        /// Sleep this long, then ask again.
        case wait(Duration)
        /// Nothing is watched any more.
        case stop
    }

    public let settings: Settings
    /// When each watched rollout began to be watched, by the watcher's id.
    public private(set) var watches: [Int: Date] = [:]
    public private(set) var lastPoll: Date?

    public init(settings: Settings) {
        self.settings = settings
    }

    public mutating func watchStarted(_ id: Int, at date: Date) {
        watches[id] = date
    }

    public mutating func watchEnded(_ id: Int) {
        watches[id] = nil
    }

    public mutating func polled(at date: Date) {
        lastPoll = date
    }

    /// The gap between two polls at `now`, for a tick that asks for `services` services.
    public func interval(at now: Date, services: Int) -> Duration {
        guard let youngest = watches.values.max() else { return settings.ceiling }
        let age = now.timeIntervalSince(youngest)
        var gap = settings.fastInterval
        if age > Self.seconds(settings.youngFor) {
            let doublings = 1 + Int((age - Self.seconds(settings.youngFor)) / Self.seconds(settings.backoffStep))
            gap = settings.fastInterval * (1 << min(doublings, 20))
        }
        let calls = max(1, (services + settings.servicesPerCall - 1) / settings.servicesPerCall)
        return min(settings.ceiling, max(gap, settings.fastInterval * calls))
    }

    /// What to do at `now` when `services` services are watched. A wait is never longer than
    /// `fastInterval`, so a rollout that starts being watched meanwhile is polled soon.
    public func nextAction(at now: Date, services: Int) -> Action {
        guard let firstWatch = watches.values.min() else { return .stop }
        let due = (lastPoll ?? firstWatch).addingTimeInterval(Self.seconds(interval(at: now, services: services)))
        let remaining = due.timeIntervalSince(now)
        if remaining <= 0 { return .poll }
        return .wait(min(.nanoseconds(Int64((remaining * 1e9).rounded(.up))), settings.fastInterval))
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
