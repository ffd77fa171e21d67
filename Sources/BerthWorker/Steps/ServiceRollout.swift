import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// What the two service steps share: one deployment of a service at a time, the revision they
/// register, the output variables they set, and ECS's own verdict on the rollout. Each ECS change
/// is recorded in the step's checkpoint as soon as ECS has made it, so that a node adopting the
/// deployment makes neither a second revision nor a second change to the service.
struct ServiceRollout {
    let run: StepRun
    let ecs: ECSClient
    let target: StepJob.Target
    let serviceName: String
    let wait: WaitOption
    /// How ECS shifts traffic, whether a cancel rolls back, and the stage to wait until.
    var strategy = DeploymentStrategySettings()

    var cluster: String { target.clusterName }

    /// Runs `body` holding the service's lock, so that two deployments of one service never
    /// interleave: the second waits (as long as its own wait allows) or fails naming the first.
    func locked(_ body: () async throws -> StepOutcome) async throws -> StepOutcome {
        let key = Self.lockKey(region: target.region, cluster: cluster, service: serviceName)
        return try await run.host.withServiceLock(key, waitAtMost: wait.timeout ?? .seconds(3600), log: run.log, body)
    }

    /// The service lock's name: one deployment at a time per service, across tasks and nodes.
    static func lockKey(region: String, cluster: String, service: String) -> String { "\(region)/\(cluster)/\(service)" }

    /// What an earlier run of this step recorded before its node stopped.
    var earlier: StepProgress? { run.checkpoint.earlier }

    /// The revision to roll out: the one an earlier run registered, or one registered now (and
    /// recorded); logged with its images.
    func register(_ request: ECS.RegisterTaskDefinitionRequest) async throws -> (definition: ECS.TaskDefinition, arn: String) {
        if let recorded = earlier?.taskDefinitionARN {
            guard
                let definition = try await ecs.describeTaskDefinition(ECS.DescribeTaskDefinitionRequest(taskDefinition: recorded))
                    .taskDefinition
            else {
                throw BerthError(.notFound, "The task definition \(recorded) that this step registered earlier no longer exists.")
            }
            await run.log.info(
                "The task definition \(RolloutTracker.revision(of: recorded)) (\(Self.images(definition))) was registered before \(earlier?.recorder ?? "the node running it") stopped; no new revision."
            )
            return (definition, recorded)
        }
        let registered = try await ecs.registerTaskDefinition(request)
        guard let definition = registered.taskDefinition, let arn = definition.taskDefinitionArn else {
            throw AWSClientError(.invalidResponse, "RegisterTaskDefinition answered without a task definition ARN.")
        }
        try await run.checkpoint.record { $0.taskDefinitionARN = arn }
        await run.log.info("Registered the task definition \(RolloutTracker.revision(of: arn)) (\(Self.images(definition))).")
        return (definition, arn)
    }

    /// When an earlier run had already changed the service to the revision: the time it did.
    var changedEarlier: Date? { earlier?.serviceChangedAt }

    /// Records that the service was created or updated to roll out the revision; returns when.
    func recordChange() async throws -> Date {
        let now = run.configuration.clock.now()
        try await run.checkpoint.record { $0.serviceChangedAt = now }
        return now
    }

    /// The service as ECS describes it now, when it is active.
    func describeService() async throws -> ECS.Service? {
        try await ecs.describeServices(ECS.DescribeServicesRequest(services: [serviceName], cluster: cluster))
            .services?.first { $0.serviceName == serviceName && $0.status == "ACTIVE" }
    }

    /// The step's output variables, then — unless another deployment controller owns the
    /// service's rollouts — the wait for ECS to finish rolling out `arn`.
    func finish(
        _ definition: ECS.TaskDefinition, arn: String, family: String, service: ECS.Service?, changedAt: Date
    ) async throws -> StepOutcome {
        let outputs = [
            "ServiceName": serviceName, "ClusterName": cluster, "TaskDefinitionFamily": definition.family ?? family,
            "TaskDefinitionRevision": String(definition.revision ?? 0), "TaskDefinitionArn": arn, "Region": target.region,
        ]
        if let controller = service?.deploymentController?.type?.rawValue, controller != "ECS" {
            await run.log.info(
                "The service uses the \(controller) deployment controller; its rollout is not ECS's to report, so Berth does not wait."
            )
            return .succeeded(outputs)
        }
        // The service's own strategy decides how its rollout is reported, also when the step
        // leaves the strategy as the service has it.
        let used = strategy.isExplicit ? strategy.strategy : service?.deploymentConfiguration?.strategy ?? .rolling
        do {
            let verdict =
                if used == .rolling {
                    try await RolloutWait(
                        run: run, ecs: ecs, cluster: cluster, service: serviceName, taskDefinition: arn, startedAt: changedAt
                    ).wait(wait)
                } else {
                    try await ServiceDeploymentWait(
                        run: run, ecs: ecs, cluster: cluster, service: serviceName, taskDefinition: arn, settings: strategy,
                        strategy: used, startedAt: changedAt
                    ).wait(wait)
                }
            return StepOutcome(verdict, outputs: outputs)
        } catch {
            if strategy.rollbackOnCancel, !WorkStop.isHandingOver, Task.isCancelled || error is CancellationError {
                await rollBack()
            }
            throw error
        }
    }

    /// `rollbackOnCancel`: asks ECS to roll back the service deployment in progress
    /// (`StopServiceDeployment` with `ROLLBACK`). The calls run in the worker's ``CleanupCalls``, so
    /// that the cancellation does not cut them short; a failure is logged, as the step has its outcome.
    func rollBack() async {
        let (log, ecs, cluster, serviceName) = (run.log, ecs, cluster, serviceName)
        await run.worker.cleanup.perform {
            do {
                let listed = try await ecs.listServiceDeployments(
                    ECS.ListServiceDeploymentsRequest(
                        service: serviceName, cluster: cluster, status: [.pending, .inProgress]))
                let running = (listed.serviceDeployments ?? []).compactMap(\.serviceDeploymentArn)
                if running.isEmpty {
                    await log.info("rollbackOnCancel: ECS has no deployment of \(serviceName) in progress to roll back.")
                }
                for arn in running {
                    _ = try await ecs.stopServiceDeployment(
                        ECS.StopServiceDeploymentRequest(serviceDeploymentArn: arn, stopType: .rollback))
                    await log.warning(
                        "The deployment was cancelled: asked ECS to roll back its deployment \(arn) (rollbackOnCancel).")
                }
            } catch {
                await log.error("rollbackOnCancel: could not ask ECS to roll back the deployment of \(serviceName): \(error)")
            }
        }
    }

    static func images(_ definition: ECS.TaskDefinition) -> String {
        (definition.containerDefinitions ?? []).map { "\($0.name ?? "?") = \($0.image ?? "?")" }.joined(separator: ", ")
    }
}
