import AWSCore
import AWSCredentials
import AWSECS
import AWSSTS
import BerthDomain
import BerthOIDC
import BerthStore
import BerthWorker
import Foundation

/// Runs a deployment: the release's steps in order, each on every target of the deployment's
/// environment with one of the step's roles (in parallel, bounded), each in its own log section
/// that opens with the credentials and the AWS identity that run it. The first step that does not
/// succeed ends the deployment with its outcome: failed, rolled back, timed out or cancelled.
///
/// Every step records its progress on each target as it goes (``StepJournal``). A deployment
/// adopted from a node that stopped carries on from there: a step that finished is not run again
/// (its outcome and output variables are the recorded ones), a service or Run ECS task step
/// continues from its last recorded ECS call, and a script that was running fails, since running
/// it a second time may not be safe.
///
/// The same executor previews a release (kinds release-verify and release-diff): only the service
/// steps run, each in the preview's mode on its workers with its credentials, and nothing changes.
struct DeploymentExecutor: TaskExecutor {
    var kind = ServerTask.Kind.deployment
    let store: BerthStore
    let credentials: TargetCredentials
    let variables: DeploymentVariables
    let services: DeploymentServices

    var configuration: EngineConfiguration { services.configuration }

    var planner: StepJobPlanner { StepJobPlanner(store: store, credentials: credentials, variables: variables) }

    /// What the whole deployment shares.
    struct Plan: Sendable {
        /// For a preview, the deployment it would be (never stored).
        var deployment: Deployment
        /// A preview's mode (nil: a deployment).
        var mode: StepJob.Mode?
        var project: Project
        var release: Release
        var environment: Environment
        var space: Space
        var candidates: [ScopedValue]
        /// OIDC tokens of account variables, minted per step and target when a step uses them.
        var tokens: [DeploymentVariables.DeferredToken]
        /// The deployment's OIDC subject values.
        var subject: OIDCSubject.Values
        var targets: [ECSClusterTarget]
    }

    /// What an earlier run started must not run on unwatched when the deployment ends without
    /// running again.
    func giveUp(_ task: ServerTask, log: TaskLogWriter, because reason: GiveUpReason) async {
        await stopTasksLeftRunning(task, log: log, because: reason == .cancelled ? "was cancelled" : "failed")
    }

    /// A cancel reaches a deployment's external workers at their next renewal; what they say as
    /// they stop their steps (a Run ECS task's tasks stopped) still belongs in the log.
    func afterCancel(_ task: ServerTask, log: TaskLogWriter) async {
        let running: [StepJobRecord]
        do {
            running = try await store.stepJobs(taskID: task.id).filter { $0.state == .running }
        } catch {
            await log.warning("The jobs of this deployment on workers could not be read after the cancel: \(describe(error))")
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for job in running {
                group.addTask {
                    do {
                        let envelope = try StepJobEnvelope.open(job, with: variables.secrets)
                        guard let pool = try await store.workerPool(id: job.poolID) else { return }
                        await externalRun(pool: pool, log: log, section: log.section(envelope.job.logSection))
                            .relayAfterCancel(job)
                    } catch {
                        await log.warning("The job \(job.id) could not be followed after the cancel: \(describe(error))")
                    }
                }
            }
        }
    }

    /// The release's steps in order, each on its targets, carrying on from the journal.
    func execute(_ task: ServerTask, log: TaskLogWriter) async throws -> ExecutionResult {
        let plan = try await makePlan(task, log: log)
        let images = plan.release.snapshot.images.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        switch plan.mode {
        case nil:
            await log.info(
                "Deploying \(plan.project.name) \(plan.release.version) to \(plan.environment.name): \(plan.release.snapshot.steps.count) steps; images \(images.joined(separator: ", "))."
            )
        case .verify?, .diff?:
            await log.info(
                "\(plan.mode == .verify ? "Verifying" : "Diffing") \(plan.project.name) \(plan.release.version) in \(plan.environment.name): its ECS service steps on their targets, with their credentials; nothing changes. Images \(images.joined(separator: ", "))."
            )
        }
        let journal = try await StepJournal.load(
            taskID: task.id, store: store, secrets: variables.secrets, configuration: configuration)
        if !journal.earlier.isEmpty {
            let finished = journal.earlier.values.filter { $0.finished != nil }.count
            await log.info(
                "Carrying on from what earlier runs recorded: \(finished) step run\(finished == 1 ? "" : "s") finished already and \(finished == 1 ? "is" : "are") not run again."
            )
        }
        var outputs = VariableDictionary()
        var identity: String?
        let environmentNames = Dictionary(
            uniqueKeysWithValues: try await store.listEnvironments(spaceID: plan.space.id).map { ($0.id, $0.name) })
        for (index, step) in plan.release.snapshot.steps.enumerated() {
            try Task.checkCancellation()
            if let reason = step.skipReason(in: plan.environment, names: environmentNames) {
                await log.info("Step \(index + 1): \(step.name) (\(step.kind.rawValue)) is skipped: \(reason).")
                continue
            }
            if plan.mode != nil, step.kind != .deployService, step.kind != .updateService {
                await log.info(
                    "Step \(index + 1): \(step.name) (\(step.kind.rawValue)) is not previewed: verify and diff look at the ECS service steps."
                )
                continue
            }
            if step.kind == .manualIntervention {
                await log.info("Step \(index + 1): \(step.name) (\(step.kind.rawValue)) on the server.")
                let outcome = try await ManualIntervention(
                    store: store, clock: configuration.clock, auditKey: variables.secrets.auditChainKey
                ).run(
                    step: step, index: index, taskID: task.id, log: log)
                guard outcome.state == .succeeded else {
                    return ExecutionResult(
                        outcome: TaskOutcome(
                            state: outcome.state,
                            errorMessage: "Step '\(step.name)': \(outcome.message ?? outcome.state.rawValue)",
                            identityARN: identity))
                }
                continue
            }
            let targets = plan.targets.filter { !Set($0.roles).isDisjoint(with: step.targetRoles) }
            if targets.isEmpty, step.kind.needsTargets || !step.targetRoles.isEmpty {
                let message =
                    "Step '\(step.name)': no target in \(plan.environment.name) has the role \(step.targetRoles.map { "'\($0)'" }.joined(separator: " or "))."
                await log.error(message)
                return ExecutionResult(outcome: TaskOutcome(state: .failed, errorMessage: message, identityARN: identity))
            }
            await log.info(
                "Step \(index + 1): \(step.name) (\(step.kind.rawValue)) on \(targets.isEmpty ? "the worker" : targets.map(\.name).joined(separator: ", "))."
            )
            let results = await runOnTargets(
                step, index: index, targets: targets, plan: plan, outputs: outputs, task: task, journal: journal, log: log)
            let worst = results.max { StepOutcome.severity($0.state) < StepOutcome.severity($1.state) }
            for result in results {
                identity = identity ?? result.identity
                for (name, value) in result.outputs.sorted(by: { $0.key < $1.key }) {
                    let sensitive = result.sensitiveOutputs.contains(name)
                    outputs.set("Berth.Action[\(step.name)].Output.\(name)", value, sensitive: sensitive)
                    if let target = result.target {
                        outputs.set("Berth.Action[\(step.name)].Output[\(target)].\(name)", value, sensitive: sensitive)
                    }
                }
            }
            if let worst, worst.state != .succeeded {
                let message =
                    "Step '\(step.name)'\(worst.target.map { " on \($0)" } ?? ""): \(worst.message ?? worst.state.rawValue)"
                return ExecutionResult(
                    outcome: TaskOutcome(state: worst.state, errorMessage: message, identityARN: identity))
            }
        }
        switch plan.mode {
        case nil: await log.info("Deployed \(plan.project.name) \(plan.release.version) to \(plan.environment.name).")
        case .verify?:
            await log.info("Verified \(plan.project.name) \(plan.release.version) in \(plan.environment.name): no problem found.")
        case .diff?: await log.info("Diffed \(plan.project.name) \(plan.release.version) in \(plan.environment.name).")
        }
        return ExecutionResult(outcome: TaskOutcome(state: .succeeded, identityARN: identity))
    }

    /// Stops the one-off tasks that an earlier run of the deployment started and no run saw end (a
    /// Run ECS task step whose node died, then the deployment was cancelled or given up); the stop
    /// reason says the deployment `ending` ("was cancelled", "failed"). Failures are logged.
    func stopTasksLeftRunning(_ task: ServerTask, log: TaskLogWriter, because ending: String) async {
        do {
            let left = try await store.stepProgress(taskID: task.id).filter {
                $0.value.finished == nil && !($0.value.taskARNs ?? []).isEmpty
            }
            guard !left.isEmpty else { return }
            let plan = try await makePlan(task, log: log)
            let use = TargetCredentials.Use.deployment(
                project: plan.project.slug, environment: plan.environment.slug, deployedBy: plan.subject.deployedBy)
            for (key, progress) in left.sorted(by: { $0.key.stepIndex < $1.key.stepIndex }) {
                guard let target = plan.targets.first(where: { $0.id == key.targetID }),
                    plan.release.snapshot.steps.indices.contains(key.stepIndex)
                else { continue }
                let section = log.section(
                    "\(key.stepIndex + 1). \(plan.release.snapshot.steps[key.stepIndex].name) · \(target.name)")
                let resolved = try await credentials.resolve(for: target, use: use, log: log, section: section.name)
                let ecs = ECSClient(
                    client: try configuration.client(for: .ecs, region: target.region, credentials: resolved.provider))
                for arn in progress.taskARNs ?? [] {
                    _ = try await ecs.stopTask(
                        ECS.StopTaskRequest(
                            task: arn, cluster: target.clusterName, reason: "The Berth deployment \(ending)."))
                    await section.warning(
                        "Stopped \(StepWorker.shortTaskID(arn)), which \(progress.recorder) started: the deployment \(ending)."
                    )
                }
            }
        } catch {
            await log.error(
                "The tasks an earlier run of this deployment started could not all be stopped: \(describe(error))")
        }
    }

    func makePlan(_ task: ServerTask, log: TaskLogWriter) async throws -> Plan {
        guard let deployment = try await store.deploymentOrPreview(taskID: task.id),
            let release = try await store.release(id: deployment.releaseID),
            let project = try await store.project(id: deployment.projectID)
        else { throw BerthError(.notFound, "The deployment of task \(task.id) or its release no longer exists.") }
        let space = try await store.space(deployment.spaceID)
        guard let environment = try await store.findEnvironment(deployment.environmentID, spaceID: space.id) else {
            throw BerthError(.notFound, "The environment of this deployment no longer exists.")
        }
        var subject = OIDCSubject.Values(space: space.slug, project: project.slug, environment: environment.slug)
        subject.deployedBy = task.queuedBy
        let candidates = try await variables.candidates(release, environment: environment)
        await log.addSensitive(candidates.values.filter(\.isSensitive).map(\.value))
        let targets = try await store.allTargets(spaceID: space.id).filter { $0.environmentIDs.contains(environment.id) }
        return Plan(
            deployment: deployment, mode: task.kind.previewMode, project: project, release: release, environment: environment,
            space: space,
            candidates: candidates.values, tokens: candidates.tokens, subject: subject, targets: targets)
    }

    /// The step on each target, at most `maximumParallelTargets` at once; a script step without
    /// roles runs once on the worker.
    func runOnTargets(
        _ step: DeploymentStep, index: Int, targets: [ECSClusterTarget], plan: Plan, outputs: VariableDictionary,
        task: ServerTask, journal: StepJournal, log: TaskLogWriter
    ) async -> [StepOutcome] {
        if targets.isEmpty {
            return [
                await runOne(
                    step, index: index, target: nil, plan: plan, outputs: outputs, task: task, journal: journal, log: log)
            ]
        }
        return await withTaskGroup(of: (Int, StepOutcome).self) { group in
            var results: [StepOutcome?] = Array(repeating: nil, count: targets.count)
            var next = 0
            func startNext() {
                guard next < targets.count else { return }
                let position = next
                next += 1
                group.addTask {
                    (
                        position,
                        await runOne(
                            step, index: index, target: targets[position], plan: plan, outputs: outputs, task: task,
                            journal: journal, log: log)
                    )
                }
            }
            for _ in 0..<min(configuration.maximumParallelTargets, targets.count) { startNext() }
            while let (position, result) = await group.next() {
                results[position] = result
                startNext()
            }
            return results.compactMap(\.self)
        }
    }

    /// The step on one target (or the worker): its recorded outcome when an earlier run finished
    /// it, else a run of it, whose outcome is recorded unless it was cancelled.
    func runOne(
        _ step: DeploymentStep, index: Int, target: ECSClusterTarget?, plan: Plan, outputs: VariableDictionary,
        task: ServerTask, journal: StepJournal, log: TaskLogWriter
    ) async -> StepOutcome {
        let section = log.section("\(index + 1). \(step.name) · \(target?.name ?? "worker")")
        let key = StepProgress.Key(stepIndex: index, targetID: target?.id)
        let earlier = journal.earlier[key]
        if let finished = earlier?.finished {
            do {
                let outcome = try journal.outcome(finished, at: key)
                await log.addSensitive(outcome.sensitiveOutputs.compactMap { outcome.outputs[$0] })
                await section.info(
                    "Finished earlier (recorded by \(earlier?.recorder ?? "the node running it")): \(outcome.state.phrase); not run again."
                )
                return outcome
            } catch {
                let message = "its outcome recorded by an earlier run cannot be read: \(describe(error))"
                await section.error("Failed: \(message)")
                return StepOutcome.failed(message).on(target?.name, as: nil)
            }
        }
        var result = await attempt(
            step, index: index, target: target, plan: plan, outputs: outputs, task: task, journal: journal,
            earlier: earlier, log: log, section: section)
        guard result.state != .cancelled else { return result }
        do {
            try await journal.finish(key, outcome: result)
        } catch {
            let message = "its outcome (\(result.state.phrase)) could not be recorded: \(describe(error))"
            await section.error("Failed: \(message)")
            result = (Task.isCancelled ? StepOutcome(state: .cancelled, message: "cancelled") : .failed(message))
                .on(target?.name, as: result.identity)
        }
        return result
    }

    /// Runs the step on one target: planned into a job here, run by a worker of its pool (the
    /// built-in worker for the default pool, unless it is turned off). A job an earlier node left
    /// with a worker is followed, not started again. A script that an earlier run had started is
    /// not run again: it fails, naming the node or worker that stopped.
    func attempt(
        _ step: DeploymentStep, index: Int, target: ECSClusterTarget?, plan: Plan, outputs: VariableDictionary,
        task: ServerTask, journal: StepJournal, earlier: StepProgress?, log: TaskLogWriter, section: LogSection
    ) async -> StepOutcome {
        var earlier = earlier
        do {
            let key = StepProgress.Key(stepIndex: index, targetID: target?.id)
            var lost = 0
            // A job an earlier node left with a worker: finished (its outcome not yet recorded when
            // that node stopped), or still running, which this node follows instead of starting another.
            if let left = try await store.latestStepJob(taskID: task.id, key: key), left.state != .abandoned,
                let pool = try await store.workerPool(id: left.poolID)
            {
                await section.info(
                    "Following the job that \(left.workerName.map { "the worker \($0)" } ?? "the pool '\(pool.name)'") has from before."
                )
                let external = externalRun(pool: pool, log: log, section: section)
                let wait = try Self.jobWait(try StepJobEnvelope.open(left, with: variables.secrets).job)
                switch try await external.follow(left, waitAtMost: wait) {
                case .finished(let outcome):
                    _ = try await journal.reload(key)
                    return outcome.on(target?.name, as: outcome.identity)
                case .lost(let worker):
                    lost += 1
                    earlier = try await lostJob(key, worker: worker, journal: journal, section: section)
                }
            }
            while true {
                if lost >= Self.maximumLostJobs {
                    let message =
                        "the job was lost \(lost) times (its workers stopped answering, or could not open it); Berth gives up on it."
                    await section.error("Failed: \(message)")
                    return StepOutcome.failed(message).on(target?.name, as: nil)
                }
                if let earlier, earlier.scriptStartedAt != nil {
                    let message =
                        "\(earlier.recorder) stopped\(earlier.recordedBy?.hasPrefix("worker ") == true ? " answering" : "") while the script ran; a script is not run a second time, since repeating it may not be safe. Deploy again to run it."
                    await section.error("Failed: \(message)")
                    return StepOutcome.failed(message).on(target?.name, as: nil)
                }
                if let earlier {
                    await section.info("Carrying on where \(earlier.recorder) stopped in the middle of this step.")
                }
                let planned = try await planner.job(
                    for: step, index: index, target: target, plan: plan, outputs: outputs, task: task, earlier: earlier,
                    log: log, section: section)
                let pool = try await planner.pool(for: planned.job, target: target, plan: plan)
                if pool.isDefault, configuration.inProcessWorker {
                    let host = BuiltInJobHost(
                        log: log, journal: journal, key: planned.job.key, stepName: planned.job.stepName, taskID: task.id,
                        locks: services.locks, tokens: planned.tokens,
                        questions: StepQuestions(store: store, clock: configuration.clock))
                    return await services.worker.run(planned.job, host: host)
                }
                let external = externalRun(pool: pool, log: log, section: section)
                let envelope = StepJobEnvelope(job: planned.job, tokenRecipe: planned.tokens?.recipe)
                switch try await external.run(envelope, waitAtMost: try Self.jobWait(planned.job)) {
                case .finished(let outcome):
                    _ = try await journal.reload(key)
                    return outcome.on(target?.name, as: outcome.identity)
                case .lost(let worker):
                    lost += 1
                    earlier = try await lostJob(key, worker: worker, journal: journal, section: section)
                }
            }
        } catch {
            if error is CancellationError || Task.isCancelled {
                await section.warning(
                    WorkStop.isHandingOver ? "Stopped here: the task is handed over to another node." : "Cancelled.")
                return StepOutcome(state: .cancelled, message: "cancelled").on(target?.name, as: nil)
            }
            let message = describe(error)
            await section.error("Failed: \(message)")
            return StepOutcome.failed(message).on(target?.name, as: nil)
        }
    }

    /// How many times a step's job may be lost (its worker stopped answering) before the step fails.
    static let maximumLostJobs = 3

    /// How long a job waits for a worker when nothing says otherwise (seconds).
    static let defaultJobWait = 1800

    /// A job waits for a worker as long as the step may take: its `timeoutSeconds` (0: a day), or
    /// 30 minutes (an hour for a script).
    static func jobWait(_ job: StepJob) throws -> Duration {
        let properties = StepProperties(step: job.stepName, json: job.properties)
        let seconds = try properties.int("timeoutSeconds") ?? (job.kind == .awsCLIScript ? 3600 : defaultJobWait)
        return .seconds(seconds == 0 ? 86_400 : seconds)
    }

    /// A worker stopped answering: what it recorded is where the step carries on.
    func lostJob(
        _ key: StepProgress.Key, worker: String, journal: StepJournal, section: LogSection
    ) async throws -> StepProgress? {
        await section.warning("The worker \(worker) stopped answering; the job goes back to its pool.")
        return try await journal.reload(key)
    }

    func externalRun(pool: WorkerPool, log: TaskLogWriter, section: LogSection) -> ExternalJobRun {
        ExternalJobRun(
            store: store, secrets: variables.secrets, configuration: configuration, log: log, section: section, pool: pool,
            bell: services.bell)
    }
}

/// What the engine's deployments share: the built-in worker that runs their jobs, and the service
/// locks.
struct DeploymentServices: Sendable {
    let configuration: EngineConfiguration
    let worker: StepWorker
    let locks: ServiceLocks
    /// Rung when a job is queued for external workers.
    let bell: JobBell
}
