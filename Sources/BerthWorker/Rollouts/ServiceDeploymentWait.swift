import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// Waits for a blue/green, linear or canary rollout through ECS's own record of it, the service
/// deployment: finds the one that rolls out the step's task definition, then follows its status
/// and lifecycle stage, logging each stage as it is entered with the traffic the new revision
/// takes ("TEST_TRAFFIC_SHIFT: 100% test traffic on web:7", "BAKE_TIME: 10 min"). It ends as ECS
/// ends it: SUCCESSFUL succeeds; ROLLBACK_SUCCESSFUL is a rollback, named with ECS's reason and the
/// alarms that fired; ROLLBACK_FAILED and STOPPED fail. `untilStage` succeeds as soon as the
/// deployment reaches that stage, and leaves the rest to ECS. A PAUSE hook waiting for an answer
/// becomes a manual intervention of the task: approved (`berth task approve`), ECS is told to
/// continue; rejected, to roll back (`ContinueServiceDeployment`). Values ECS adds later are shown
/// as they are. Throttling and connection errors keep it waiting (said at most once a minute), as
/// ``RolloutWait`` does.
struct ServiceDeploymentWait {
    let run: StepRun
    let ecs: ECSClient
    let cluster: String
    let service: String
    let taskDefinition: String
    let settings: DeploymentStrategySettings
    let strategy: ECS.DeploymentStrategy
    let startedAt: Date

    func wait(_ option: WaitOption) async throws -> RolloutVerdict {
        if option == .dontWait {
            await run.log.info("Not waiting for the rollout (wait: false); ECS continues it.")
            return .succeeded("not waited for")
        }
        let revision = RolloutTracker.revision(of: taskDefinition)
        await run.log.info(
            "Waiting for ECS's \(strategy.rawValue) deployment of \(revision) to \(service)"
                + (settings.untilStage.map { " to reach \($0.rawValue)" } ?? " to finish")
                + (option.timeout.map { " (at most \(Int($0.timeInterval)) s)" } ?? " (no time limit)") + ".")
        var seen = Seen()
        do {
            let verdict = try await follow(option, revision: revision, seen: &seen)
            await withdrawQuestions(seen.openQuestions)
            return verdict
        } catch {
            // Cancelled or failed: no question may stay open for a wait that has ended — unless the
            // deployment is handed over, and the node that carries it on waits on the same questions.
            if !WorkStop.isHandingOver {
                let open = seen.openQuestions
                await run.worker.cleanup.perform { await withdrawQuestions(open) }
            }
            throw error
        }
    }

    func follow(_ option: WaitOption, revision: String, seen: inout Seen) async throws -> RolloutVerdict {
        let clock = run.configuration.clock
        var notice = ThrottleNotice()
        var arn: String?
        var checkedRevisions: [String: String] = [:]
        while true {
            try Task.checkCancellation()
            if let timeout = option.timeout, clock.now().timeIntervalSince(startedAt) >= timeout.timeInterval {
                return .timedOut(
                    "ECS's deployment of \(revision) did not finish within \(Int(timeout.timeInterval)) s"
                        + (seen.stage.map { " (last stage: \($0))" } ?? "") + "; ECS carries on with it.")
            }
            do {
                if arn == nil {
                    arn = try await find(&checkedRevisions)
                    if let arn { await run.log.info("ECS's service deployment: \(arn).") }
                }
                if let arn, let deployment = try await describe(arn) {
                    try await chart(deployment, names: &checkedRevisions, seen: &seen)
                    if let verdict = await follow(deployment, seen: &seen) { return verdict }
                    try await answerPausedHooks(deployment, seen: &seen)
                    if let verdict = await reachedStage(deployment, seen: seen) { return verdict }
                }
            } catch let error where ThrottleNotice.isRetryable(error) && !Task.isCancelled {
                if let line = notice.line(for: "\(error)", throttling: ThrottleNotice.isThrottling(error), at: clock.now()) {
                    await run.log.warning(line)
                }
            } catch let error as AWSClientError where !Task.isCancelled {
                return .failed("ECS's service deployment could not be read, and asking again will not help: \(error)")
            }
            try await clock.sleep(for: interval(at: clock.now()))
        }
    }

    /// Every second while the rollout is young, then the configured interval.
    func interval(at now: Date) -> Duration {
        let settings = run.worker.watchers.settings
        return now.timeIntervalSince(startedAt) < settings.youngFor.timeInterval ? settings.fastInterval : settings.ceiling
    }

    /// The newest service deployment created since the change whose target revision runs our task
    /// definition (each revision is described once).
    func find(_ checked: inout [String: String]) async throws -> String? {
        let listed = try await ecs.listServiceDeployments(
            ECS.ListServiceDeploymentsRequest(
                service: service, cluster: cluster, createdAt: ECS.CreatedAt(after: startedAt.addingTimeInterval(-300))))
        let candidates = (listed.serviceDeployments ?? []).sorted {
            ($0.createdAt ?? .distantPast) > ($1.createdAt ?? .distantPast)
        }
        let unknown = candidates.compactMap(\.targetServiceRevisionArn).filter { checked[$0] == nil }
        if !unknown.isEmpty {
            let described = try await ecs.describeServiceRevisions(
                ECS.DescribeServiceRevisionsRequest(serviceRevisionArns: Array(unknown.prefix(20))))
            for revision in described.serviceRevisions ?? [] {
                if let arn = revision.serviceRevisionArn { checked[arn] = revision.taskDefinition ?? "" }
            }
        }
        return candidates.first { checked[$0.targetServiceRevisionArn ?? ""] == taskDefinition }?.serviceDeploymentArn
    }

    func describe(_ arn: String) async throws -> ECS.ServiceDeployment? {
        let described = try await ecs.describeServiceDeployments(
            ECS.DescribeServiceDeploymentsRequest(serviceDeploymentArns: [arn]))
        if let failure = described.failures?.first {
            throw AWSClientError(
                .invalidResponse,
                "DescribeServiceDeployments did not describe \(arn): \(failure.reason ?? "no reason") \(failure.detail ?? "")")
        }
        return described.serviceDeployments?.first
    }

    /// What the log has said, so that each stage and traffic weight is said once.
    struct Seen {
        var stage: String?
        var weights: String?
        var status: String?
        /// Hooks ECS has been told to continue or roll back.
        var answeredHooks: Set<String> = []
        /// Questions asked and not answered yet: hook id → subject.
        var openQuestions: [String: String] = [:]
        var snapshot: RolloutSnapshot?
    }

    /// Writes what the task page's rollout chart is drawn from — the tasks of the new revision
    /// (PRIMARY) and of the ones it replaces (ACTIVE) — when it changed. The revisions' task
    /// definitions are described once each.
    func chart(_ deployment: ECS.ServiceDeployment, names: inout [String: String], seen: inout Seen) async throws {
        let sources = deployment.sourceServiceRevisions ?? []
        let unknown = sources.compactMap(\.arn).filter { names[$0] == nil }
        if !unknown.isEmpty {
            let described = try await ecs.describeServiceRevisions(
                ECS.DescribeServiceRevisionsRequest(serviceRevisionArns: Array(unknown.prefix(20))))
            for revision in described.serviceRevisions ?? [] {
                if let arn = revision.serviceRevisionArn { names[arn] = revision.taskDefinition ?? "" }
            }
            // Revisions ECS could not describe are named by their ARN's last part, not asked again.
            for arn in unknown where names[arn] == nil { names[arn] = "" }
        }
        func revision(_ summary: ECS.ServiceRevisionSummary, status: String, taskDefinition: String?) -> RolloutSnapshot.Revision
        {
            let name = taskDefinition.flatMap { $0.isEmpty ? nil : RolloutTracker.revision(of: $0) }
            return RolloutSnapshot.Revision(
                name: name ?? String((summary.arn ?? "?").split(separator: "/").last ?? "?"), status: status,
                running: summary.runningTaskCount ?? 0, desired: summary.requestedTaskCount ?? 0,
                pending: summary.pendingTaskCount ?? 0)
        }
        var revisions: [RolloutSnapshot.Revision] = []
        if let target = deployment.targetServiceRevision {
            revisions.append(revision(target, status: "PRIMARY", taskDefinition: taskDefinition))
        }
        for source in sources {
            revisions.append(revision(source, status: "ACTIVE", taskDefinition: source.arn.flatMap { names[$0] }))
        }
        let snapshot = RolloutSnapshot(revisions: revisions)
        guard !revisions.isEmpty, snapshot != seen.snapshot else { return }
        seen.snapshot = snapshot
        await run.log.verbose(snapshot.line)
    }

    /// Logs what changed; the verdict once the deployment has ended (or reached `untilStage`).
    func follow(_ deployment: ECS.ServiceDeployment, seen: inout Seen) async -> RolloutVerdict? {
        let revision = RolloutTracker.revision(of: taskDefinition)
        let stage = deployment.lifecycleStage
        if let stage, stage.rawValue != seen.stage {
            seen.stage = stage.rawValue
            seen.weights = nil
            await run.log.info("\(stage.rawValue)\(describe(stage, deployment))")
        }
        let weights = Self.weights(deployment.targetServiceRevision, revision: revision)
        if let weights, weights != seen.weights, stage == .testTrafficShift || stage == .productionTrafficShift {
            if seen.weights != nil { await run.log.info("\(stage?.rawValue ?? "TRAFFIC"): \(weights)") }
            seen.weights = weights
        }
        let status = deployment.status?.rawValue ?? "UNKNOWN"
        if status != seen.status {
            seen.status = status
            if ["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"].contains(status) {
                await run.log.warning("ECS: \(status)\(Self.reason(deployment).map { " — \($0)" } ?? "").")
            }
        }
        switch deployment.status {
        case .successful?:
            await run.log.info("Done: ECS's deployment of \(revision) is SUCCESSFUL.")
            return .succeeded("\(service) runs \(revision) (\(strategy.rawValue))")
        case .rollbackSuccessful?:
            return .rolledBack(
                "ECS rolled \(service) back from \(revision)\(Self.reason(deployment).map { ": \($0)" } ?? "")")
        case .rollbackFailed?:
            return .failed(
                "ECS could not roll \(service) back from \(revision)\(Self.reason(deployment).map { ": \($0)" } ?? "")")
        case .stopped?:
            return .failed("ECS stopped its deployment of \(revision)\(Self.reason(deployment).map { ": \($0)" } ?? "")")
        default:
            break
        }
        return nil
    }

    /// With `untilStage`: success once the deployment has reached that stage — unless a PAUSE hook
    /// waits there, which a person answers first.
    func reachedStage(_ deployment: ECS.ServiceDeployment, seen: Seen) async -> RolloutVerdict? {
        guard let until = settings.untilStage, let stage = deployment.lifecycleStage,
            let reached = DeploymentStrategySettings.stages.firstIndex(of: stage),
            let wanted = DeploymentStrategySettings.stages.firstIndex(of: until), reached >= wanted,
            deployment.status == .inProgress, seen.openQuestions.isEmpty,
            !Self.pausedHooks(deployment).contains(where: { !seen.answeredHooks.contains($0.hookId ?? "") })
        else { return nil }
        let revision = RolloutTracker.revision(of: taskDefinition)
        await run.log.info("Reached \(stage.rawValue) (wait untilStage \(until.rawValue)); ECS finishes the deployment.")
        return .succeeded("\(service) reached \(stage.rawValue) with \(revision)")
    }

    /// The PAUSE hooks ECS waits at (a hook without a type is a Lambda hook: ECS's default).
    static func pausedHooks(_ deployment: ECS.ServiceDeployment) -> [ECS.DeploymentLifecycleHookDetail] {
        (deployment.lifecycleHookDetails ?? []).filter { $0.status == .awaitingAction && $0.targetType == .pause }
    }

    /// Withdraws questions nobody needs to answer any more (ECS went on without Berth, or the wait
    /// ended), so that they neither stay pending nor stand before a later question.
    func withdrawQuestions(_ questions: [String: String]) async {
        for (hook, subject) in questions.sorted(by: { $0.key < $1.key }) {
            do {
                try await run.host.withdrawQuestion(subject: subject)
                await run.log.info("The question about the PAUSE hook \(hook) is withdrawn: ECS no longer waits for it here.")
            } catch {
                await run.log.warning("Could not withdraw the question about the PAUSE hook \(hook): \(error)")
            }
        }
    }

    /// Asks a person about each PAUSE hook ECS waits at (once: the question is stored), and passes
    /// the answer on to ECS.
    func answerPausedHooks(_ deployment: ECS.ServiceDeployment, seen: inout Seen) async throws {
        let revision = RolloutTracker.revision(of: taskDefinition)
        let stage = deployment.lifecycleStage?.rawValue ?? "?"
        let paused = Self.pausedHooks(deployment)
        // A question whose hook ECS no longer waits at (it timed out, or was answered in AWS).
        let gone = seen.openQuestions.filter { hook, _ in !paused.contains { $0.hookId == hook } }
        if !gone.isEmpty {
            await withdrawQuestions(gone)
            for hook in gone.keys { seen.openQuestions[hook] = nil }
        }
        for hook in paused {
            guard let id = hook.hookId, let arn = deployment.serviceDeploymentArn, !seen.answeredHooks.contains(id) else {
                continue
            }
            let subject = "hook:\(run.target?.id ?? "-"):\(arn):\(id)"
            let question = try await run.host.askPerson(
                subject: subject,
                instructions:
                    "ECS paused the \(strategy.rawValue) deployment of \(revision) to \(service) on \(run.target?.name ?? "its target") (cluster \(cluster)) at \(stage) (PAUSE hook \(id)): approve to let ECS continue, reject to roll back."
            )
            seen.openQuestions[id] = subject
            if question.askedNow {
                await run.log.warning(
                    "ECS waits at the PAUSE hook \(id) (\(stage)). Answer with: berth task approve \(run.taskID) --question \(question.id ?? "?") [--note …] to continue, or berth task reject \(run.taskID) --question \(question.id ?? "?") [--note …] to roll back"
                        + (hook.expiresAt.map { "; ECS decides by itself at \($0.ISO8601Format())" } ?? "") + ".")
            }
            guard let answer = question.answer else { continue }
            let who = question.answeredBy ?? "someone"
            let note = question.note.map { ": \($0)" } ?? ""
            let action: ECS.DeploymentLifecycleHookAction = answer == .approved ? .continue : .rollback
            seen.openQuestions[id] = nil
            seen.answeredHooks.insert(id)
            do {
                _ = try await ecs.continueServiceDeployment(
                    ECS.ContinueServiceDeploymentRequest(serviceDeploymentArn: arn, hookId: id, action: action))
            } catch let error where !ThrottleNotice.isRetryable(error) {
                // The hook ended in the meantime (its own timeout, or an answer in AWS): ECS
                // decided; the deployment says how, and Berth keeps following it.
                await run.log.warning(
                    "\(answer == .approved ? "Approved" : "Rejected") by \(who), but ECS no longer waits at the PAUSE hook \(id): \(error)"
                )
                continue
            } catch {
                seen.answeredHooks.remove(id)
                throw error
            }
            if answer == .approved {
                await run.log.info("Approved by \(who)\(note); ECS continues the deployment (PAUSE hook \(id)).")
            } else {
                await run.log.warning("Rejected by \(who)\(note); asked ECS to roll the deployment back (PAUSE hook \(id)).")
            }
        }
    }

    /// What a stage means for this deployment: the traffic on the new revision, the bake time.
    func describe(_ stage: ECS.ServiceDeploymentLifecycleStage, _ deployment: ECS.ServiceDeployment) -> String {
        let revision = RolloutTracker.revision(of: taskDefinition)
        let target = deployment.targetServiceRevision
        switch stage {
        case .testTrafficShift, .productionTrafficShift:
            return Self.weights(target, revision: revision).map { ": \($0)" } ?? ""
        case .bakeTime:
            let minutes = deployment.deploymentConfiguration?.bakeTimeInMinutes ?? settings.bakeTimeInMinutes
            return minutes.map { ": \($0) min" } ?? ""
        case .scaleUp:
            guard let target else { return "" }
            return ": \(target.runningTaskCount ?? 0) of \(target.requestedTaskCount ?? 0) tasks of \(revision) running"
        default:
            return ""
        }
    }

    static func weights(_ target: ECS.ServiceRevisionSummary?, revision: String) -> String? {
        guard let target else { return nil }
        var parts: [String] = []
        if let test = target.requestedTestTrafficWeight { parts.append("\(percent(test)) test traffic") }
        if let production = target.requestedProductionTrafficWeight { parts.append("\(percent(production)) production traffic") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ") + " on \(revision)"
    }

    static func percent(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))%" : String(format: "%.1f%%", value)
    }

    /// ECS's reason, with the alarms that fired and the circuit breaker's count when it tripped.
    static func reason(_ deployment: ECS.ServiceDeployment) -> String? {
        var parts: [String] = []
        if let reason = deployment.rollback?.reason ?? deployment.statusReason {
            parts.append(reason.hasSuffix(".") ? String(reason.dropLast()) : reason)
        }
        if let alarms = deployment.alarms?.triggeredAlarmNames, !alarms.isEmpty {
            parts.append("alarm\(alarms.count == 1 ? "" : "s") \(alarms.joined(separator: ", ")) fired")
        }
        if let breaker = deployment.deploymentCircuitBreaker, breaker.status?.rawValue == "TRIGGERED" {
            parts.append("the circuit breaker tripped (\(breaker.failureCount ?? 0) failed tasks)")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
