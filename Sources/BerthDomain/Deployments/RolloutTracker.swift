import AWSRules
import Foundation

/// What ECS says about a service at one moment, in the terms the completion check needs.
public struct ServiceObservation: Sendable, Hashable {
    public struct Rollout: Sendable, Hashable {
        public var id: String
        /// PRIMARY, ACTIVE or INACTIVE.
        public var status: String
        public var taskDefinition: String
        /// IN_PROGRESS, COMPLETED or FAILED; nil where ECS does not track rollouts.
        public var rolloutState: String?
        public var rolloutStateReason: String?
        public var desiredCount: Int
        public var runningCount: Int
        public var pendingCount: Int
        public var failedTasks: Int

        public init(
            id: String, status: String, taskDefinition: String, rolloutState: String?, rolloutStateReason: String? = nil,
            desiredCount: Int, runningCount: Int, pendingCount: Int = 0, failedTasks: Int = 0
        ) {
            self.id = id
            self.status = status
            self.taskDefinition = taskDefinition
            self.rolloutState = rolloutState
            self.rolloutStateReason = rolloutStateReason
            self.desiredCount = desiredCount
            self.runningCount = runningCount
            self.pendingCount = pendingCount
            self.failedTasks = failedTasks
        }
    }

    /// ACTIVE, DRAINING or INACTIVE; "MISSING" when ECS no longer knows the service.
    public var status: String
    public var rollouts: [Rollout]
    /// Newest first, as ECS returns them.
    public var events: [String]

    public init(status: String, rollouts: [Rollout], events: [String] = []) {
        self.status = status
        self.rollouts = rollouts
        self.events = events
    }

    public var primary: Rollout? { rollouts.first { $0.status == "PRIMARY" } }
}

/// A task that stopped, as far as the completion check cares.
public struct StoppedTask: Sendable, Hashable {
    public struct Container: Sendable, Hashable {
        public var name: String
        public var exitCode: Int?
        public var reason: String?
        public var isEssential: Bool

        public init(name: String, exitCode: Int?, reason: String?, isEssential: Bool = true) {
            self.name = name
            self.exitCode = exitCode
            self.reason = reason
            self.isEssential = isEssential
        }
    }

    public var taskARN: String
    public var taskDefinition: String
    public var stopCode: String?
    public var stoppedReason: String?
    public var containers: [Container]

    public init(taskARN: String, taskDefinition: String, stopCode: String?, stoppedReason: String?, containers: [Container]) {
        self.taskARN = taskARN
        self.taskDefinition = taskDefinition
        self.stopCode = stopCode
        self.stoppedReason = stoppedReason
        self.containers = containers
    }

    /// Why this task's failure dooms the rollout, or nil when it stopped for an ordinary reason
    /// (scaled in, replaced, stopped by a user). Image pulls, secrets and log setup that fail will
    /// fail again; an essential container that exits takes the task down every time.
    public var fatalReason: String? {
        if stopCode == "ServiceSchedulerInitiated" || stopCode == "UserInitiated" || stopCode == "SpotInterruption"
            || stopCode == "TerminationNotice"
        {
            if !(stoppedReason ?? "").contains("Essential container") { return nil }
        }
        let id = taskARN.split(separator: "/").last.map(String.init) ?? taskARN
        let reasons = [stoppedReason].compactMap(\.self) + containers.compactMap(\.reason)
        for marker in ["CannotPullContainerError", "ResourceInitializationError", "CannotStartContainerError"]
        where reasons.contains(where: { $0.contains(marker) }) {
            return "task \(id) could not start: \(reasons.first { $0.contains(marker) } ?? marker)"
        }
        if let container = containers.first(where: { $0.isEssential && $0.exitCode != nil }),
            (stoppedReason ?? "").contains("Essential container") || stopCode == "EssentialContainerExited"
        {
            return
                "task \(id) stopped: essential container '\(container.name)' exited with code \(container.exitCode ?? 0)"
                + (container.reason.map { " (\($0))" } ?? "")
        }
        if stopCode == "TaskFailedToStart" { return "task \(id) failed to start: \(stoppedReason ?? "no reason given")" }
        return nil
    }
}

/// How a step's wait for ECS ended, or that it has not.
public enum RolloutVerdict: Sendable, Hashable {
    case inProgress(String)
    case succeeded(String)
    case failed(String)
    /// The circuit breaker put the previous task definition back.
    case rolledBack(String)
    case timedOut(String)

    public var isFinal: Bool {
        if case .inProgress = self { return false }
        return true
    }
}

/// Decides from ECS's own signals whether a service runs the task definition a step registered.
///
/// Done means: the PRIMARY deployment carries our task definition, its `rolloutState` is COMPLETED
/// and it runs at least as many tasks as it wants. Unlike the SDK's `ServicesStable` waiter, a
/// circuit-breaker rollback (our deployment ACTIVE and FAILED, the old revision PRIMARY again) is a
/// rollback, not a success; a FAILED rollout fails with ECS's reason; a fatal stopped task fails
/// early; and a timeout reports the last service events.
///
/// ```swift
/// var tracker = RolloutTracker(taskDefinition: arn, startedAt: now, timeout: .seconds(600))
/// switch tracker.observe(observation, at: clock.now()) { case .succeeded: … }
/// ```
public struct RolloutTracker: Sendable {
    public let taskDefinition: String
    public let startedAt: Date
    public let timeout: Duration?
    public private(set) var lastProgress: String?
    public private(set) var lastEvents: [String] = []
    /// `failedTasks` of our deployment at the last observation: when it grows, look at stopped tasks.
    public private(set) var failedTasks = 0

    public init(taskDefinition: String, startedAt: Date, timeout: Duration?) {
        self.taskDefinition = taskDefinition
        self.startedAt = startedAt
        self.timeout = timeout
    }

    /// True when the last observation showed more failed tasks than the one before.
    public private(set) var hasNewFailedTasks = false

    public mutating func observe(_ service: ServiceObservation, at now: Date) -> RolloutVerdict {
        if !service.events.isEmpty { lastEvents = Array(service.events.prefix(5)) }
        let ours = service.rollouts.first { $0.taskDefinition == taskDefinition }
        let failed = ours?.failedTasks ?? 0
        hasNewFailedTasks = failed > failedTasks
        failedTasks = failed
        if service.status != "ACTIVE" {
            return .failed("the service is \(service.status) (deleted or being deleted) while the deployment ran")
        }
        let primary = service.primary
        if let ours, let primary, primary.id == ours.id {
            switch ours.rolloutState {
            case "FAILED":
                return .failed("ECS marked the deployment FAILED: \(ours.rolloutStateReason ?? "no reason given")")
            case "COMPLETED" where ours.runningCount >= ours.desiredCount:
                return .succeeded(
                    "the deployment is COMPLETED with \(ours.runningCount) of \(ours.desiredCount) tasks running \(Self.revision(of: taskDefinition))"
                )
            case nil where service.rollouts.count == 1 && ours.runningCount >= ours.desiredCount && ours.pendingCount == 0:
                // No rollout state (e.g. a deployment controller without it): one deployment at full count.
                return .succeeded(
                    "the only deployment runs \(ours.runningCount) of \(ours.desiredCount) tasks \(Self.revision(of: taskDefinition))"
                )
            default:
                break
            }
            let progress =
                "\(ours.runningCount) of \(ours.desiredCount) running, \(ours.pendingCount) pending"
                + (ours.failedTasks > 0 ? ", \(ours.failedTasks) failed" : "")
                + " (rollout \(ours.rolloutState ?? "state unknown"); \(service.rollouts.count) deployments)"
            return timedOutOr(.inProgress(progress), now: now)
        }
        if let primary {
            let rollback =
                ours?.rolloutState == "FAILED" || service.events.prefix(5).contains { $0.contains("rolling back") }
                || (primary.rolloutStateReason ?? "").contains("rolling back")
            if rollback {
                let reason = ours?.rolloutStateReason ?? primary.rolloutStateReason ?? "circuit breaker tripped"
                return .rolledBack(
                    "the ECS deployment circuit breaker rolled back to \(Self.revision(of: primary.taskDefinition)): \(reason)")
            }
            if ours == nil {
                return .failed(
                    "another deployment replaced ours: the service now deploys \(Self.revision(of: primary.taskDefinition))")
            }
        }
        return timedOutOr(.inProgress("waiting for ECS to start the deployment"), now: now)
    }

    /// The verdict once the wait has run out, with the last service events.
    public func timedOutVerdict() -> RolloutVerdict {
        let seconds = Int((timeout?.timeInterval ?? 0).rounded())
        let events =
            lastEvents.isEmpty ? "ECS reported no service events." : "Last service events: " + lastEvents.joined(separator: " | ")
        return .timedOut("not done after \(seconds) s (\(lastProgress ?? "no progress seen")). \(events)")
    }

    private mutating func timedOutOr(_ verdict: RolloutVerdict, now: Date) -> RolloutVerdict {
        if case .inProgress(let progress) = verdict { lastProgress = progress }
        if let timeout, now.timeIntervalSince(startedAt) >= timeout.timeInterval { return timedOutVerdict() }
        return verdict
    }

    /// `web:7` from a task definition ARN.
    public static func revision(of taskDefinition: String) -> String {
        taskDefinition.split(separator: "/").last.map(String.init) ?? taskDefinition
    }
}
