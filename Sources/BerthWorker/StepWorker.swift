import AWSCore
import AWSCredentials
import AWSECS
import AWSSTS
import BerthDomain
import Foundation

/// Runs step jobs. It knows only the job and its host: credentials come from the job's material
/// (or the worker's own chain), progress and log lines go to the host. The same code runs in the
/// built-in worker and in `berth worker` agents.
///
/// Pollers are shared: every job of the worker that watches services on one cluster with one
/// identity costs one DescribeServices per interval (``ServiceWatchHub``), and credentials are
/// cached per identity (``JobCredentialResolver``).
public struct StepWorker: Sendable {
    public let configuration: WorkerConfiguration
    public let watchers: ServiceWatchHub
    /// Where a cancelled step's calls on its way out run (a service of its own).
    public let cleanup: CleanupCalls
    public let credentials: JobCredentialResolver

    public init(
        configuration: WorkerConfiguration, watchers: ServiceWatchHub, cleanup: CleanupCalls, registry: CredentialCacheRegistry
    ) {
        self.configuration = configuration
        self.watchers = watchers
        self.cleanup = cleanup
        self.credentials = JobCredentialResolver(registry: registry, configuration: configuration)
    }

    /// Runs `job` to its outcome: credentials, the AWS identity they are, the cluster, then the
    /// step itself. Its log section opens with the credentials and ends with the outcome; an error
    /// becomes a failed outcome, a cancel a cancelled one.
    public func run(_ job: StepJob, host: any StepJobHost) async -> StepOutcome {
        let section = LogSection(writer: host.log, name: job.logSection)
        var identity: String?
        do {
            await host.log.addSensitive(job.sensitiveValues)
            let properties = StepProperties(step: job.stepName, json: job.properties)
            var resolved: ResolvedCredentials?
            if let target = job.target {
                await section.info("Target \(target.name): cluster \(target.clusterName) in \(target.region).")
            }
            if let material = job.credentials {
                resolved = try await credentials.resolve(
                    material, region: job.region, refresh: WebIdentityRefresh(host: host), log: host.log,
                    section: section.name)
            }
            if let resolved {
                let sts = STSClient(
                    client: try configuration.client(for: .sts, region: job.region, credentials: resolved.provider))
                let caller = try await sts.getCallerIdentity()
                identity = caller.arn
                await section.info("Running as \(caller.arn) (account \(caller.account)).")
            }
            if let target = job.target, let resolved, job.kind.needsTargets {
                try await checkCluster(target, credentials: resolved, section: section)
            }
            let run = StepRun(
                job: job, properties: properties, log: section, credentials: resolved,
                checkpoint: StepCheckpoint(job: job, host: host), host: host, worker: self)
            let outcome: StepOutcome
            switch job.kind {
            case _ where job.mode != nil && job.kind != .deployService && job.kind != .updateService:
                // Only the service steps know a mode that changes nothing; any other would run for real.
                outcome = StepOutcome(
                    state: .failed, message: "A \(job.kind.rawValue) step cannot be previewed (\(job.mode?.rawValue ?? "?")).")
            case .deployService: outcome = try await DeployServiceStep(run: run).execute()
            case .updateService: outcome = try await UpdateServiceStep(run: run).execute()
            case .runTask: outcome = try await RunTaskStep(run: run).execute()
            case .awsCLIScript: outcome = try await ScriptStep(run: run).execute()
            case .manualIntervention:
                // The server answers these itself; a job of one is never planned.
                outcome = StepOutcome(
                    state: .failed, message: "A manual intervention is answered on the server, not by a worker.")
            }
            switch outcome.state {
            case .succeeded: await section.info("Succeeded.")
            default:
                let state = outcome.state.phrase
                await section.error("\(state.prefix(1).uppercased() + state.dropFirst()): \(outcome.message ?? "")")
            }
            return outcome.on(job.target?.name, as: identity)
        } catch is CancellationError {
            await section.warning(
                WorkStop.isHandingOver ? "Stopped here: another node or worker carries the step on." : "Cancelled.")
            return StepOutcome(state: .cancelled, message: "cancelled").on(job.target?.name, as: identity)
        } catch {
            if Task.isCancelled {
                return StepOutcome(state: .cancelled, message: "cancelled").on(job.target?.name, as: identity)
            }
            let message = describe(error)
            await section.error("Failed: \(message)")
            return StepOutcome.failed(message).on(job.target?.name, as: identity)
        }
    }

    /// An ECS step changes nothing on a cluster that is missing or not ACTIVE: it fails up front,
    /// naming the cluster, instead of registering a task definition first.
    func checkCluster(_ target: StepJob.Target, credentials: ResolvedCredentials, section: LogSection) async throws {
        let ecs = ECSClient(
            client: try configuration.client(for: .ecs, region: target.region, credentials: credentials.provider))
        switch try await ClusterLookup.find(target.clusterName, with: ecs) {
        case .active(let cluster):
            await section.info("The cluster \(target.clusterName) is ACTIVE (\(ClusterLookup.counts(cluster))).")
        case .notActive(_, let status):
            throw BerthError(
                .conflict,
                "The cluster '\(target.clusterName)' in \(target.region) is \(status), not ACTIVE; nothing was changed.")
        case .missing(let reason):
            throw BerthError(
                .notFound,
                "The cluster '\(target.clusterName)' was not found in \(target.region) (\(reason)); nothing was changed. Check the target's cluster name, region and account."
            )
        }
    }

    /// `task/cluster/0123abcd…` → `0123abcd…`, as the log names one-off tasks.
    public static func shortTaskID(_ arn: String) -> String { RunTaskStep.shortID(arn) }
}

/// A job's host as the source of its web identity's next token.
struct WebIdentityRefresh: WebIdentityTokenSource {
    let host: any StepJobHost

    func freshWebIdentityToken() async throws -> String { try await host.freshWebIdentityToken() }
}
