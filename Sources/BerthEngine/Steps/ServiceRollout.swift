import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// What the two service steps share: one deployment of a service at a time, the revision they
/// register, the output variables they set, and ECS's own verdict on the rollout.
struct ServiceRollout {
    let run: StepRun
    let ecs: ECSClient
    let target: ECSClusterTarget
    let serviceName: String
    let wait: WaitOption

    var cluster: String { target.clusterName }

    /// Runs `body` holding the service's lock, so that two deployments of one service never
    /// interleave: the second waits (as long as its own wait allows) or fails naming the first.
    func locked(_ body: () async throws -> StepOutcome) async throws -> StepOutcome {
        let key = ServiceLocks.key(region: target.region, cluster: cluster, service: serviceName)
        return try await run.services.locks.withLock(
            key, taskID: run.taskID, waitAtMost: wait.timeout ?? .seconds(3600), log: run.log, body)
    }

    /// Registers the revision to roll out and logs it with its images.
    func register(_ request: ECS.RegisterTaskDefinitionRequest) async throws -> (definition: ECS.TaskDefinition, arn: String) {
        let registered = try await ecs.registerTaskDefinition(request)
        guard let definition = registered.taskDefinition, let arn = definition.taskDefinitionArn else {
            throw AWSClientError(.invalidResponse, "RegisterTaskDefinition answered without a task definition ARN.")
        }
        await run.log.info("Registered the task definition \(RolloutTracker.revision(of: arn)) (\(Self.images(definition))).")
        return (definition, arn)
    }

    /// The step's output variables, then — unless another deployment controller owns the
    /// service's rollouts — the wait for ECS to finish rolling out `arn`.
    func finish(_ definition: ECS.TaskDefinition, arn: String, family: String, service: ECS.Service?) async throws -> StepOutcome
    {
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
        let verdict = try await RolloutWait(run: run, ecs: ecs, cluster: cluster, service: serviceName, taskDefinition: arn)
            .wait(wait)
        return StepOutcome(verdict, outputs: outputs)
    }

    static func images(_ definition: ECS.TaskDefinition) -> String {
        (definition.containerDefinitions ?? []).map { "\($0.name ?? "?") = \($0.image ?? "?")" }.joined(separator: ", ")
    }
}
