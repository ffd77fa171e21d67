import AWSCloudWatchLogs
import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// Everything one step needs on one target (or on the worker, for a script without roles): its
/// job, and what the worker running it provides.
struct StepRun: Sendable {
    let job: StepJob
    /// The job's properties, read with errors that name the step.
    let properties: StepProperties
    let log: LogSection
    let credentials: ResolvedCredentials?
    /// Where the step records what it has done, and finds what an earlier run did.
    let checkpoint: StepCheckpoint
    let host: any StepJobHost
    let worker: StepWorker

    var configuration: WorkerConfiguration { worker.configuration }
    var target: StepJob.Target? { job.target }
    var variables: VariableDictionary { job.variables }
    var region: String { job.region }
    var taskID: String { job.taskID }
    var stepName: String { job.stepName }
    /// Images frozen by the release, by container name.
    var images: [String: String] { job.images }
    /// ``StepJob/tags(project:environment:release:deployment:)`` of this deployment.
    var defaultTags: [String: String] { job.defaultTags }

    /// An ECS client with this target's credentials.
    func ecs() throws -> ECSClient {
        guard let target, let credentials else {
            throw BerthError(.internalError, "Step '\(stepName)' needs a target and credentials to call ECS.")
        }
        return ECSClient(client: try configuration.client(for: .ecs, region: target.region, credentials: credentials.provider))
    }

    /// A CloudWatch Logs client with this target's credentials.
    func logs() throws -> CloudWatchLogsClient {
        guard let target, let credentials else {
            throw BerthError(.internalError, "Step '\(stepName)' needs a target and credentials to call CloudWatch Logs.")
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
