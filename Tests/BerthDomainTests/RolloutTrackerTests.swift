import BerthDomain
import Foundation
import Testing

@Suite("The completion check")
struct RolloutTrackerTests {
    let ours = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:8"
    let old = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7"
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func rollout(
        _ id: String, _ status: String, _ taskDefinition: String, _ state: String?, running: Int, desired: Int = 2,
        failed: Int = 0, reason: String? = nil
    ) -> ServiceObservation.Rollout {
        .init(
            id: id, status: status, taskDefinition: taskDefinition, rolloutState: state, rolloutStateReason: reason,
            desiredCount: desired, runningCount: running, failedTasks: failed)
    }

    @Test("In progress until PRIMARY carries our revision, COMPLETED, with running ≥ desired")
    func succeedsOnlyOnECSSignals() {
        var tracker = RolloutTracker(taskDefinition: ours, startedAt: start, timeout: .seconds(600))
        let halfway = ServiceObservation(
            status: "ACTIVE",
            rollouts: [
                rollout("d2", "PRIMARY", ours, "IN_PROGRESS", running: 1), rollout("d1", "ACTIVE", old, "COMPLETED", running: 2),
            ])
        guard case .inProgress(let progress) = tracker.observe(halfway, at: start + 10) else {
            Issue.record("halfway is not in progress")
            return
        }
        #expect(progress.hasPrefix("1 of 2 running"))
        // What ServicesStable accepts (one deployment, running == desired) is not done while IN_PROGRESS.
        let stableButNotCompleted = ServiceObservation(
            status: "ACTIVE", rollouts: [rollout("d2", "PRIMARY", ours, "IN_PROGRESS", running: 2)])
        #expect(!tracker.observe(stableButNotCompleted, at: start + 20).isFinal)
        let done = ServiceObservation(status: "ACTIVE", rollouts: [rollout("d2", "PRIMARY", ours, "COMPLETED", running: 2)])
        #expect(
            tracker.observe(done, at: start + 30) == .succeeded("the deployment is COMPLETED with 2 of 2 tasks running web:8"))
    }

    @Test("A circuit-breaker rollback is a rollback, although the service looks stable")
    func rollbackIsNotSuccess() {
        var tracker = RolloutTracker(taskDefinition: ours, startedAt: start, timeout: nil)
        let rolledBack = ServiceObservation(
            status: "ACTIVE",
            rollouts: [
                rollout("d3", "PRIMARY", old, "COMPLETED", running: 2),
                rollout(
                    "d2", "ACTIVE", ours, "FAILED", running: 0, failed: 3,
                    reason: "ECS deployment circuit breaker: tasks failed to start."),
            ],
            events: ["(service web) rolling back to deployment d1."])
        #expect(
            tracker.observe(rolledBack, at: start + 60)
                == .rolledBack(
                    "the ECS deployment circuit breaker rolled back to web:7: ECS deployment circuit breaker: tasks failed to start."
                ))
        #expect(tracker.hasNewFailedTasks)
    }

    @Test("FAILED, a deleted service and a replacing deployment fail; a timeout reports the last events")
    func failuresAndTimeout() {
        var tracker = RolloutTracker(taskDefinition: ours, startedAt: start, timeout: .seconds(60))
        let failed = ServiceObservation(
            status: "ACTIVE", rollouts: [rollout("d2", "PRIMARY", ours, "FAILED", running: 0, reason: "tasks failed")])
        #expect(tracker.observe(failed, at: start) == .failed("ECS marked the deployment FAILED: tasks failed"))
        #expect(
            tracker.observe(.init(status: "DRAINING", rollouts: []), at: start)
                == .failed("the service is DRAINING (deleted or being deleted) while the deployment ran"))
        let replaced = ServiceObservation(
            status: "ACTIVE",
            rollouts: [rollout("d9", "PRIMARY", "arn:aws:ecs:eu-west-1:1:task-definition/web:9", "IN_PROGRESS", running: 0)])
        #expect(
            tracker.observe(replaced, at: start) == .failed("another deployment replaced ours: the service now deploys web:9"))

        var slow = RolloutTracker(taskDefinition: ours, startedAt: start, timeout: .seconds(60))
        let stuck = ServiceObservation(
            status: "ACTIVE", rollouts: [rollout("d2", "PRIMARY", ours, "IN_PROGRESS", running: 0)],
            events: ["(service web) was unable to place a task.", "(service web) has started 1 tasks."])
        #expect(!slow.observe(stuck, at: start + 59).isFinal)
        guard case .timedOut(let message) = slow.observe(stuck, at: start + 60) else {
            Issue.record("no timeout")
            return
        }
        #expect(message.contains("not done after 60 s (0 of 2 running"))
        #expect(
            message.contains(
                "Last service events: (service web) was unable to place a task. | (service web) has started 1 tasks."))
    }

    @Test("Stopped tasks: image pulls, secrets and essential exits are fatal; scale-in is not")
    func stoppedTasks() {
        let pull = StoppedTask(
            taskARN: "arn:aws:ecs:eu-west-1:1:task/c/abc", taskDefinition: ours, stopCode: "TaskFailedToStart",
            stoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found",
            containers: [])
        #expect(
            pull.fatalReason
                == "task abc could not start: CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
        )
        let crash = StoppedTask(
            taskARN: "arn:aws:ecs:eu-west-1:1:task/c/def", taskDefinition: ours, stopCode: "EssentialContainerExited",
            stoppedReason: "Essential container in task exited", containers: [.init(name: "web", exitCode: 137, reason: nil)])
        #expect(crash.fatalReason == "task def stopped: essential container 'web' exited with code 137")
        let scaledIn = StoppedTask(
            taskARN: "arn:aws:ecs:eu-west-1:1:task/c/ghi", taskDefinition: ours, stopCode: "ServiceSchedulerInitiated",
            stoppedReason: "Scaling activity initiated by (deployment ecs-svc/1)",
            containers: [.init(name: "web", exitCode: 0, reason: nil)])
        #expect(scaledIn.fatalReason == nil)
    }
}
