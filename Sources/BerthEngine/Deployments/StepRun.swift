import AWSCloudWatchLogs
import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// Everything one step needs on one target (or on the worker, for a script without roles).
struct StepRun: Sendable {
    let step: DeploymentStep
    /// The step's properties with every `#{}` evaluated for this target.
    let properties: StepProperties
    let target: ECSClusterTarget?
    let log: LogSection
    let variables: VariableDictionary
    let credentials: TargetCredentials.Resolved?
    let region: String
    let taskID: String
    /// Images frozen by the release, by container name.
    let images: [String: String]
    /// ``defaultTags(project:environment:release:deployment:)`` of this deployment.
    let defaultTags: [String: String]
    /// Where the step records what it has done, and finds what an earlier run did.
    let checkpoint: StepCheckpoint
    let services: DeploymentServices

    var configuration: EngineConfiguration { services.configuration }

    /// An ECS client with this target's credentials.
    func ecs() throws -> ECSClient {
        guard let target, let credentials else {
            throw BerthError(.internalError, "Step '\(step.name)' needs a target and credentials to call ECS.")
        }
        return ECSClient(client: try configuration.client(for: .ecs, region: target.region, credentials: credentials.provider))
    }

    /// Berth's own tags on everything a step creates.
    static func defaultTags(project: String, environment: String, release: String, deployment: String) -> [String: String] {
        ["berth:project": project, "berth:environment": environment, "berth:release": release, "berth:deployment": deployment]
    }

    /// How many tags ``defaultTags(project:environment:release:deployment:)`` adds.
    static let defaultTagCount = defaultTags(project: "", environment: "", release: "", deployment: "").count

    /// A CloudWatch Logs client with this target's credentials.
    func logs() throws -> CloudWatchLogsClient {
        guard let target, let credentials else {
            throw BerthError(.internalError, "Step '\(step.name)' needs a target and credentials to call CloudWatch Logs.")
        }
        return CloudWatchLogsClient(
            client: try configuration.client(for: .cloudWatchLogs, region: target.region, credentials: credentials.provider))
    }

    /// Default tags and the step's own (`tags`), the step's winning.
    func tagValues() throws(BerthError) -> [String: String] {
        defaultTags.merging(try properties.tags()) { $1 }
    }

    /// ``tagValues()`` as ECS takes them, sorted by key.
    func tags() throws(BerthError) -> [ECS.Tag] {
        try tagValues().sorted { $0.key < $1.key }.map { ECS.Tag(key: $0.key, value: $0.value) }
    }
}

/// The engine's shared parts that steps use: the ECS service pollers and locks.
struct DeploymentServices: Sendable {
    let configuration: EngineConfiguration
    let watchers: ServiceWatchHub
    let locks: ServiceLocks
}
