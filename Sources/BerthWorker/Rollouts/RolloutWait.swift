import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// Waits for a service to run the task definition a step registered, through the shared poller,
/// and decides with `RolloutTracker`; when ECS counts new failed tasks, looks at the stopped ones
/// and fails early on a fatal reason.
///
/// Throttling, 5xx answers and connection errors while watching do not end the wait: the step
/// keeps waiting until its own timeout, and the log says that AWS is throttling at most once a
/// minute. Only an error that will not change when asked again (AccessDenied, a missing cluster or
/// service) fails the step.
struct RolloutWait {
    let run: StepRun
    let ecs: ECSClient
    let cluster: String
    let service: String
    let taskDefinition: String
    /// When the rollout began: its timeout counts from then, also for a wait that a node adopting
    /// the deployment resumes.
    var startedAt: Date?

    func wait(_ option: WaitOption) async throws -> RolloutVerdict {
        if option == .dontWait {
            await run.log.info("Not waiting for the rollout (wait: false); ECS continues it.")
            return .succeeded("not waited for")
        }
        let clock = run.configuration.clock
        var tracker = RolloutTracker(taskDefinition: taskDefinition, startedAt: startedAt ?? clock.now(), timeout: option.timeout)
        await run.log.info(
            "Waiting for \(service) to run \(RolloutTracker.revision(of: taskDefinition))"
                + (option.timeout.map { " (at most \(Int($0.timeInterval)) s)" } ?? " (no time limit)") + ".")
        guard let credentials = run.credentials else { throw CancellationError() }
        let key = ServiceWatchHub.Key(region: run.region, cluster: cluster, identity: credentials.identity)
        let updates = run.worker.watchers.watch(service, key: key, ecs: ecs)
        var lastProgress = ""
        var lastSnapshot: RolloutSnapshot?
        var notice = ThrottleNotice()
        // Stopped tasks still to look at: set when ECS counts new failed tasks, cleared once looked at.
        var stoppedTasksToCheck = false
        for await update in updates {
            switch update {
            case .service(let described):
                let observation = ServiceObservation(described)
                let snapshot = RolloutSnapshot(observation)
                if snapshot != lastSnapshot, !snapshot.revisions.isEmpty {
                    // What the task page's rollout chart is drawn from.
                    await run.log.verbose(snapshot.line)
                    lastSnapshot = snapshot
                }
                let verdict = tracker.observe(observation, at: clock.now())
                if case .inProgress(let progress) = verdict, progress != lastProgress {
                    await run.log.info(progress)
                    lastProgress = progress
                }
                if tracker.hasNewFailedTasks { stoppedTasksToCheck = true }
                if stoppedTasksToCheck, !verdict.isFinal {
                    do {
                        if let fatal = try await fatalStoppedTask() { return .failed(fatal) }
                        stoppedTasksToCheck = false
                    } catch let error where ThrottleNotice.isRetryable(error) && !Task.isCancelled {
                        if let line = notice.line(
                            for: "\(error)", throttling: ThrottleNotice.isThrottling(error), at: clock.now())
                        {
                            await run.log.warning(line)
                        }
                    }
                }
                if case .succeeded(let message) = verdict { await run.log.info("Done: \(message).") }
                if verdict.isFinal { return verdict }
            case .missing(let reason):
                return .failed("ECS no longer knows the service \(service) in \(cluster) (\(reason)).")
            case .failed(let failure):
                guard failure.isRetryable else {
                    return .failed("ECS could not be polled, and asking again will not help: \(failure.message)")
                }
                if let line = notice.line(for: failure.message, throttling: failure.isThrottling, at: clock.now()) {
                    await run.log.warning(line)
                }
                if let timeout = option.timeout, clock.now().timeIntervalSince(tracker.startedAt) >= timeout.timeInterval {
                    return tracker.timedOutVerdict()
                }
            }
        }
        throw CancellationError()
    }

    /// The first stopped task of our revision that stopped for a reason that will not go away.
    func fatalStoppedTask() async throws -> String? {
        let listed = try await ecs.listTasks(
            ECS.ListTasksRequest(cluster: cluster, serviceName: service, desiredStatus: .stopped))
        let arns = Array((listed.taskArns ?? []).prefix(100))
        guard !arns.isEmpty else { return nil }
        let described = try await ecs.describeTasks(ECS.DescribeTasksRequest(tasks: arns, cluster: cluster))
        for task in described.tasks ?? [] where task.taskDefinitionArn == taskDefinition {
            if let reason = StoppedTask(task).fatalReason {
                await run.log.error("Stopped task: \(reason)")
                return reason
            }
        }
        return nil
    }
}

extension ServiceObservation {
    init(_ service: ECS.Service) {
        self.init(
            status: service.status ?? "UNKNOWN",
            rollouts: (service.deployments ?? []).map { deployment in
                Rollout(
                    id: deployment.id ?? "", status: deployment.status ?? "", taskDefinition: deployment.taskDefinition ?? "",
                    rolloutState: deployment.rolloutState?.rawValue, rolloutStateReason: deployment.rolloutStateReason,
                    desiredCount: deployment.desiredCount ?? 0, runningCount: deployment.runningCount ?? 0,
                    pendingCount: deployment.pendingCount ?? 0, failedTasks: deployment.failedTasks ?? 0)
            },
            events: (service.events ?? []).compactMap(\.message))
    }
}

extension StoppedTask {
    /// Containers that exited with a non-zero code first: they are the likely cause.
    init(_ task: ECS.Task) {
        let containers = (task.containers ?? []).sorted { ($0.exitCode ?? 0) != 0 && ($1.exitCode ?? 0) == 0 }
        self.init(
            taskARN: task.taskArn ?? "", taskDefinition: task.taskDefinitionArn ?? "", stopCode: task.stopCode?.rawValue,
            stoppedReason: task.stoppedReason,
            containers: containers.map { Container(name: $0.name ?? "", exitCode: $0.exitCode, reason: $0.reason) })
    }
}
