import AWSCloudWatchLogs
import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// "Run ECS task": a one-off task (a migration, a smoke test). Starts it with RunTask, streams its
/// containers' CloudWatch log lines (awslogs driver) into the deployment log while it runs, and
/// fails with the exit code and stop reason of an essential container that did not exit 0.
///
/// Properties: `taskDefinition` (family, family:revision or ARN), `count` (1), `launchType` or
/// `capacityProviderStrategy`, `platformVersion`, `networkConfiguration`, `overrides`, `startedBy`,
/// `tags`, `wait`, `timeoutSeconds`, `stopOnTimeout` (true).
///
/// A task never outlives the step that waits for it unnoticed: once RunTask has started it, every
/// way out of the wait stops it — cancelling the deployment, an error that asking again will not
/// cure (AccessDenied), and the timeout unless `stopOnTimeout` is false (then the log says it keeps
/// running). Only a handover leaves it running: the node that adopts the deployment waits for it. Throttling and 5xx answers while waiting only keep the step waiting, said in the log at
/// most once a minute. DescribeTasks is asked often while the task is young, then less often, as
/// ``PollSchedule`` decides.
///
/// The started tasks are recorded as soon as RunTask answers: a node that adopts the deployment
/// waits for those tasks and starts no others. RunTask carries the step's client token, so that
/// one repeated by a node adopting the deployment (its first node died before the record) gets
/// ECS's first answer.
struct RunTaskStep {
    let run: StepRun

    struct LogSource {
        var container: String
        var group: String
        var stream: String
        var nextToken: String?
        /// Whether a failure to read this stream was already said in the log.
        var failureReported = false
    }

    func execute() async throws -> StepOutcome {
        let properties = run.properties
        guard let target = run.target, run.credentials != nil else {
            return .failed("A Run ECS task step needs a target.")
        }
        let taskDefinition = try properties.requiredString("taskDefinition")
        let count = try properties.int("count", in: 1...10) ?? 1
        let launchType = try properties.string("launchType").map(ECS.LaunchType.init(rawValue:))
        let capacityProviders = try properties.decode("capacityProviderStrategy", as: [ECS.CapacityProviderStrategyItem].self)
        let network = try properties.decode("networkConfiguration", as: ECS.NetworkConfiguration.self)
        let overrides = try properties.decode("overrides", as: ECS.TaskOverride.self)
        let wait = try properties.waitOption()
        let stopOnTimeout = try properties.bool("stopOnTimeout") ?? true
        let ecs = try run.ecs()
        let cluster = target.clusterName

        let definition = try await ecs.describeTaskDefinition(ECS.DescribeTaskDefinitionRequest(taskDefinition: taskDefinition))
            .taskDefinition
        if let earlier = run.checkpoint.earlier, let arns = earlier.taskARNs, !arns.isEmpty {
            await run.log.info(
                "\(arns.map(Self.shortID).joined(separator: ", ")) started before \(earlier.recorder) stopped; waiting for \(arns.count == 1 ? "it" : "them") again."
            )
            return try await watch(
                arns, definition: definition, cluster: cluster, ecs: ecs, wait: wait, stopOnTimeout: stopOnTimeout,
                startedAt: earlier.tasksStartedAt)
        }
        let started = try await ecs.runTask(
            ECS.RunTaskRequest(
                taskDefinition: taskDefinition, capacityProviderStrategy: capacityProviders, cluster: cluster, count: count,
                launchType: launchType, networkConfiguration: network, overrides: overrides,
                platformVersion: try properties.string("platformVersion"),
                propagateTags: .taskDefinition, startedBy: try properties.string("startedBy") ?? "berth", tags: try run.tags(),
                clientToken: run.checkpoint.key.clientToken(taskID: run.taskID)))
        let arns = (started.tasks ?? []).compactMap(\.taskArn)
        if !arns.isEmpty {
            let now = run.configuration.clock.now()
            do {
                try await run.checkpoint.record {
                    $0.taskARNs = arns
                    $0.tasksStartedAt = now
                }
            } catch {
                await stop(arns, ecs: ecs, cluster: cluster, reason: "The Berth step could not record the tasks it started.")
                throw error
            }
        }
        if let failure = started.failures?.first {
            let message =
                "RunTask failed: \(failure.reason ?? "no reason") \(failure.detail ?? "")".trimmingCharacters(in: .whitespaces)
            // Of `count` tasks some may have started: they do not run on unwatched.
            await stop(arns, ecs: ecs, cluster: cluster, reason: String("The Berth step failed: \(message)".prefix(255)))
            return .failed(message)
        }
        guard !arns.isEmpty else { return .failed("RunTask started no task.") }
        await run.log.info(
            "Started \(arns.map(Self.shortID).joined(separator: ", ")) from \(definition?.taskDefinitionArn.map(RolloutTracker.revision(of:)) ?? taskDefinition)."
        )
        return try await watch(
            arns, definition: definition, cluster: cluster, ecs: ecs, wait: wait, stopOnTimeout: stopOnTimeout, startedAt: nil)
    }

    /// Waits for started tasks (unless the step does not wait), stopping them on every way out
    /// but their own end.
    func watch(
        _ arns: [String], definition: ECS.TaskDefinition?, cluster: String, ecs: ECSClient, wait: WaitOption,
        stopOnTimeout: Bool, startedAt: Date?
    ) async throws -> StepOutcome {
        var outputs = [
            "TaskArn": arns[0], "TaskArns": arns.joined(separator: ","), "ClusterName": cluster, "Region": run.region,
        ]
        if wait == .dontWait {
            await run.log.info("Not waiting for the task to stop (wait: false).")
            return .succeeded(outputs)
        }
        do {
            return try await waitForStop(
                arns, definition: definition, cluster: cluster, ecs: ecs, wait: wait, stopOnTimeout: stopOnTimeout,
                startedAt: startedAt, outputs: &outputs)
        } catch {
            if WorkStop.isHandingOver {
                await run.log.info("Handed over: the node that carries the deployment on waits for the task.")
                throw error
            }
            let reason =
                Task.isCancelled || error is CancellationError
                ? "The Berth deployment was cancelled." : String("The Berth step failed: \(describe(error))".prefix(255))
            await stop(arns, ecs: ecs, cluster: cluster, reason: reason)
            throw error
        }
    }

    /// Polls the tasks until all have stopped or the wait runs out, streaming their logs.
    func waitForStop(
        _ arns: [String], definition: ECS.TaskDefinition?, cluster: String, ecs: ECSClient, wait: WaitOption,
        stopOnTimeout: Bool, startedAt: Date?, outputs: inout [String: String]
    ) async throws -> StepOutcome {
        let logs = try run.logs()
        var sources = Self.logSources(definition, taskARNs: arns)
        let clock = run.configuration.clock
        let startedAt = startedAt ?? clock.now()
        var schedule = PollSchedule(settings: PollSchedule.Settings(ceiling: run.configuration.deploymentPollInterval))
        schedule.watchStarted(0, at: startedAt)
        var notice = ThrottleNotice()
        while true {
            if case .wait(let duration) = schedule.nextAction(at: clock.now(), services: 1) {
                try await clock.sleep(for: duration)
                continue
            }
            schedule.polled(at: clock.now())
            await stream(&sources, logs: logs)
            var tasks: [ECS.Task]?
            do {
                tasks = try await ecs.describeTasks(ECS.DescribeTasksRequest(tasks: arns, cluster: cluster)).tasks ?? []
            } catch let error where ThrottleNotice.isRetryable(error) && !Task.isCancelled {
                if let line = notice.line(for: "\(error)", throttling: ThrottleNotice.isThrottling(error), at: clock.now()) {
                    await run.log.warning(line)
                }
            }
            if let tasks, !tasks.isEmpty, tasks.allSatisfy({ $0.lastStatus == "STOPPED" }) {
                await stream(&sources, logs: logs)
                return verdict(tasks, definition: definition, outputs: &outputs)
            }
            if let timeout = wait.timeout, clock.now().timeIntervalSince(startedAt) >= timeout.timeInterval {
                let seconds = Int(timeout.timeInterval)
                let states =
                    tasks.map { described in
                        described.map { "\(Self.shortID($0.taskArn ?? "")) \($0.lastStatus ?? "?")" }.joined(separator: ", ")
                    } ?? "their state unknown: DescribeTasks failed"
                guard stopOnTimeout else {
                    return StepOutcome(
                        state: .timedOut,
                        message:
                            "the task had not stopped after \(seconds) s (\(states)); it keeps running in ECS (stopOnTimeout: false)"
                    )
                }
                let running =
                    tasks.map { described in described.filter { $0.lastStatus != "STOPPED" }.compactMap(\.taskArn) } ?? arns
                await stop(running, ecs: ecs, cluster: cluster, reason: "The Berth deployment timed out after \(seconds) s.")
                return StepOutcome(
                    state: .timedOut, message: "the task had not stopped after \(seconds) s (\(states)); Berth stopped it")
            }
        }
    }

    /// Stops tasks with StopTask, even when the step itself is being cancelled (the calls run in
    /// the worker's ``CleanupCalls``, so the cancellation does not cut them short). Failures are
    /// logged, not thrown: the step already has its outcome.
    func stop(_ arns: [String], ecs: ECSClient, cluster: String, reason: String) async {
        let log = run.log
        await run.worker.cleanup.perform {
            for arn in arns {
                do {
                    _ = try await ecs.stopTask(ECS.StopTaskRequest(task: arn, cluster: cluster, reason: reason))
                    await log.warning("Stopped \(Self.shortID(arn)): \(reason)")
                } catch {
                    await log.error("Could not stop \(Self.shortID(arn)): \(error)")
                }
            }
        }
    }

    /// Fails on the first essential container that exited with a non-zero code or never ran.
    func verdict(_ tasks: [ECS.Task], definition: ECS.TaskDefinition?, outputs: inout [String: String]) -> StepOutcome {
        let essential = Set((definition?.containerDefinitions ?? []).filter { $0.essential ?? true }.compactMap(\.name))
        for task in tasks {
            for container in task.containers ?? [] where essential.isEmpty || essential.contains(container.name ?? "") {
                outputs["ExitCode"] = container.exitCode.map(String.init) ?? outputs["ExitCode"]
                if container.exitCode != 0 {
                    let code = container.exitCode.map { "exited with code \($0)" } ?? "did not run"
                    return .failed(
                        "task \(Self.shortID(task.taskArn ?? "")): the essential container '\(container.name ?? "?")' \(code)"
                            + " — stop reason: \(task.stoppedReason ?? container.reason ?? "none given")")
                }
            }
        }
        return .succeeded(outputs)
    }

    /// Where the awslogs driver writes each container of each task:
    /// `<awslogs-stream-prefix>/<container>/<task id>`.
    static func logSources(_ definition: ECS.TaskDefinition?, taskARNs: [String]) -> [LogSource] {
        var sources: [LogSource] = []
        for container in definition?.containerDefinitions ?? [] {
            guard let configuration = container.logConfiguration, configuration.logDriver?.rawValue == "awslogs",
                let group = configuration.options?["awslogs-group"], let prefix = configuration.options?["awslogs-stream-prefix"],
                let name = container.name
            else { continue }
            for arn in taskARNs {
                sources.append(LogSource(container: name, group: group, stream: "\(prefix)/\(name)/\(shortID(arn))"))
            }
        }
        return sources
    }

    /// Prints the new lines of every source; a stream that does not exist yet is tried again later,
    /// and any other failure to read a stream is said once in the log.
    func stream(_ sources: inout [LogSource], logs: CloudWatchLogsClient) async {
        for index in sources.indices {
            do {
                while true {
                    let page = try await logs.getLogEvents(
                        CloudWatchLogs.GetLogEventsRequest(
                            logStreamName: sources[index].stream, logGroupName: sources[index].group,
                            nextToken: sources[index].nextToken, startFromHead: true))
                    for event in page.events ?? [] {
                        await run.log.info("[\(sources[index].container)] \(event.message ?? "")")
                    }
                    let advanced = page.nextForwardToken != nil && page.nextForwardToken != sources[index].nextToken
                    if let token = page.nextForwardToken { sources[index].nextToken = token }
                    if !advanced || (page.events ?? []).isEmpty { break }
                }
            } catch let error as AWSError where error.code == .resourceNotFound {
                continue  // The task has not written to its stream yet.
            } catch {
                guard !sources[index].failureReported else { continue }
                sources[index].failureReported = true
                await run.log.warning(
                    "Could not read the CloudWatch Logs of \(sources[index].container) (\(sources[index].group), stream \(sources[index].stream)): \(error). Its lines are not shown here; Berth keeps waiting for the task."
                )
            }
        }
    }

    static func shortID(_ arn: String) -> String { arn.split(separator: "/").last.map(String.init) ?? arn }
}
