import AWSCore
import AWSCredentials
import AWSECS
import BerthDomain
import BerthStore
import BerthWorker
import Foundation

/// Checks an ECS cluster target: credentials as a deployment would resolve them, then
/// DescribeClusters. Healthy only when the cluster is ACTIVE (Octopus calls FAILED and
/// DEPROVISIONING clusters healthy; Berth does not); any other state is Unhealthy with that state;
/// a missing cluster or failing credentials is Unavailable with the AWS error.
public struct HealthCheckExecutor: TaskExecutor {
    public let kind = ServerTask.Kind.healthCheck
    let store: BerthStore
    let credentials: TargetCredentials
    let configuration: EngineConfiguration

    public init(store: BerthStore, credentials: TargetCredentials, configuration: EngineConfiguration) {
        self.store = store
        self.credentials = credentials
        self.configuration = configuration
    }

    public func execute(_ task: ServerTask, log: TaskLogWriter) async throws -> ExecutionResult {
        guard let targetID = task.targetID, let target = try await store.target(id: targetID) else {
            throw BerthError(.notFound, "The target of this health check no longer exists.")
        }
        await log.info("Checking the ECS cluster '\(target.clusterName)' in \(target.region) for the target '\(target.name)'.")
        let resolved: TargetCredentials.Resolved
        do {
            resolved = try await credentials.resolve(for: target, log: log)
        } catch {
            return await verdict(.unavailable, "The credentials could not be resolved: \(describe(error))", task, log)
        }
        let ecs = ECSClient(client: try configuration.client(for: .ecs, region: target.region, credentials: resolved.provider))
        let lookup: ClusterLookup
        do {
            lookup = try await ClusterLookup.find(target.clusterName, with: ecs)
        } catch let error as AWSError {
            return await verdict(.unavailable, "DescribeClusters failed: \(error)", task, log)
        } catch let error as AWSClientError {
            return await verdict(.unavailable, "DescribeClusters could not reach ECS: \(error.message)", task, log)
        }
        switch lookup {
        case .active(let cluster):
            return await verdict(
                .healthy, "The cluster '\(target.clusterName)' is ACTIVE (\(ClusterLookup.counts(cluster))).", task, log)
        case .notActive(_, let status):
            return await verdict(
                .unhealthy, "The cluster '\(target.clusterName)' is \(status), not ACTIVE; deployments to it would fail.", task,
                log)
        case .missing(let reason):
            return await verdict(
                .unavailable,
                "The cluster '\(target.clusterName)' was not found in \(target.region) (\(reason)). Check the cluster name, region and account.",
                task, log)
        }
    }

    func verdict(_ status: HealthStatus, _ message: String, _ task: ServerTask, _ log: TaskLogWriter) async -> ExecutionResult {
        let level: LogLevel =
            switch status {
            case .healthy: .info
            case .unhealthy: .warning
            case .unavailable, .unknown: .error
            }
        await log.write(level, "\(status.rawValue.capitalized): \(message)")
        let maskedMessage = await log.mask(message)
        let state: ServerTask.State = status == .healthy ? .succeeded : .failed
        return ExecutionResult(
            outcome: TaskOutcome(
                state: state, errorMessage: status == .healthy ? nil : maskedMessage, healthStatus: status),
            targetHealth: TargetHealth(
                status: status, message: maskedMessage, checkedAt: configuration.clock.now(), taskID: task.id))
    }
}
