import AWSCore
import AWSCredentials
import BerthDomain
import BerthOIDC
import BerthStore
import BerthWorker
import Foundation
import Logging
import ServiceLifecycle

/// The engine as the API sees it: record tasks and hand them to the worker. Build it once per
/// server with `Engine.make`, which also returns the services to run.
public struct Engine: Sendable {
    public let store: BerthStore
    public let queue: TaskQueue
    public let configuration: EngineConfiguration
    /// Rung when this node queues a step job for external workers.
    public let jobBell = JobBell()
    /// Opened once this process holds its node name (no other live process uses it) and has sent
    /// its first heartbeat.
    public let nodeStarted = NodeStarted()
    let running: RunningTasks

    init(store: BerthStore, queue: TaskQueue, configuration: EngineConfiguration, running: RunningTasks) {
        self.store = store
        self.queue = queue
        self.configuration = configuration
        self.running = running
    }

    /// The engine and its services: the task runner and, when an interval is set, the health-check
    /// schedule.
    public static func make(
        store: BerthStore, secrets: SecretBox, issuer: OIDCIssuer, configuration: EngineConfiguration
    ) -> (engine: Engine, services: [any Service]) {
        let queue = TaskQueue()
        let running = RunningTasks()
        let engine = Engine(store: store, queue: queue, configuration: configuration, running: running)
        let watchers = ServiceWatchHub(
            interval: configuration.deploymentPollInterval, clock: configuration.clock, logger: configuration.logger)
        let cleanup = CleanupCalls()
        let worker = StepWorker(
            configuration: configuration.worker, watchers: watchers, cleanup: cleanup,
            registry: CredentialCacheRegistry(clock: configuration.clock))
        let credentials = TargetCredentials(
            store: store, secrets: secrets, resolver: worker.credentials, issuer: issuer)
        let deploymentServices = DeploymentServices(
            configuration: configuration, worker: worker,
            locks: ServiceLocks(
                store: store, clock: configuration.clock, retryInterval: configuration.deploymentPollInterval,
                retry: configuration.databaseRetry, logger: configuration.logger),
            bell: engine.jobBell)
        let runner = TaskRunner(
            store: store, queue: queue,
            executors: [
                AccountTestExecutor(store: store, credentials: credentials, configuration: configuration),
                HealthCheckExecutor(store: store, credentials: credentials, configuration: configuration),
                DeploymentExecutor(
                    store: store, credentials: credentials,
                    variables: DeploymentVariables(store: store, secrets: secrets, issuer: issuer), services: deploymentServices),
                DeploymentExecutor(
                    kind: .releaseVerify, store: store, credentials: credentials,
                    variables: DeploymentVariables(store: store, secrets: secrets, issuer: issuer), services: deploymentServices),
                DeploymentExecutor(
                    kind: .releaseDiff, store: store, credentials: credentials,
                    variables: DeploymentVariables(store: store, secrets: secrets, issuer: issuer), services: deploymentServices),
            ], configuration: configuration, running: running, started: engine.nodeStarted, auditKey: secrets.auditChainKey)
        // Services shut down in reverse order: the runner (and the deployments it runs) before the
        // calls of cancelled steps, those before the pollers.
        var services: [any Service] = [watchers, cleanup, runner]
        if let interval = configuration.healthCheckInterval {
            services.append(HealthCheckSchedule(engine: engine, interval: interval))
        }
        if let retention = configuration.auditRetention {
            services.append(AuditRetentionSchedule(engine: engine, retention: retention, key: secrets.auditChainKey))
        }
        return (engine, services)
    }

    /// Queues "Save and test" for an account, on behalf of `queuedBy` (a username).
    public func testAccount(_ account: Account, queuedBy: String? = nil) async throws -> ServerTask {
        let task = ServerTask(
            spaceID: account.spaceID, kind: .accountTest, description: "Test the account '\(account.name)'",
            accountID: account.id, createdAt: configuration.clock.now(), queuedBy: queuedBy)
        try await store.createTasks([task])
        queue.wake()
        return task
    }

    /// Records a deployment of `release` to `environment` and queues its task, on behalf of
    /// `queuedBy` (a username).
    /// `note` says why, in the task's description (a rollback: "back to 1.4.0, …").
    public func deploy(
        project: Project, release: Release, environment: Environment, queuedBy: String? = nil, note: String? = nil
    ) async throws -> (Deployment, ServerTask) {
        let now = configuration.clock.now()
        let task = ServerTask(
            spaceID: project.spaceID, kind: .deployment,
            description: "Deploy \(project.name) \(release.version) to \(environment.name)" + (note.map { " (\($0))" } ?? ""),
            createdAt: now, queuedBy: queuedBy)
        let deployment = Deployment(
            spaceID: project.spaceID, projectID: project.id, releaseID: release.id, environmentID: environment.id,
            taskID: task.id,
            createdAt: now)
        try await store.createDeployment(deployment, task: task)
        queue.wake()
        return (deployment, task)
    }

    /// Queues the preview of `release` in `environment`: `.releaseVerify` or `.releaseDiff`.
    public func preview(
        _ kind: ServerTask.Kind, project: Project, release: Release, environment: Environment, queuedBy: String? = nil
    ) async throws -> ServerTask {
        precondition(kind.previewMode != nil, "\(kind) is no preview")
        let now = configuration.clock.now()
        let verb = kind == .releaseVerify ? "Verify" : "Diff"
        let task = ServerTask(
            spaceID: project.spaceID, kind: kind,
            description: "\(verb) \(project.name) \(release.version) in \(environment.name)",
            createdAt: now, queuedBy: queuedBy)
        try await store.createReleasePreview(
            ReleasePreview(
                taskID: task.id, spaceID: project.spaceID, projectID: project.id, releaseID: release.id,
                environmentID: environment.id, createdAt: now),
            task: task)
        queue.wake()
        return task
    }

    /// Cancels a queued task at once; asks the node running an executing one to stop it (this node
    /// at once, another within a poll interval; it records itself as cancelled).
    @discardableResult
    public func cancel(taskID: String) async throws -> CancelResult {
        let result = try await store.requestCancel(taskID: taskID, at: configuration.clock.now())
        if case .requested = result { _ = running.cancel(taskID, .cancelled) }
        return result
    }

    /// Queues one health check per target, recorded together, on behalf of `queuedBy` (nil: the schedule).
    public func checkHealth(of targets: [ECSClusterTarget], queuedBy: String? = nil) async throws -> [ServerTask] {
        let now = configuration.clock.now()
        let tasks = targets.map {
            ServerTask(
                spaceID: $0.spaceID, kind: .healthCheck, description: "Health check of the target '\($0.name)'", targetID: $0.id,
                createdAt: now, queuedBy: queuedBy)
        }
        try await store.createTasks(tasks)
        if !tasks.isEmpty { queue.wake() }
        return tasks
    }
}

/// Health-checks every target of every space at a fixed interval, once per cluster: every node
/// looks at least every ten seconds whether a round is due, and the database gives each round to
/// exactly one of them (``BerthStore/claimDueRun(of:every:node:at:)``).
struct HealthCheckSchedule: Service {
    static let jobName = "health-checks"
    let engine: Engine
    let interval: Duration

    func run() async throws {
        let configuration = engine.configuration
        let look = min(interval, .seconds(10))
        // Shutdown cancels the sleep; that is the schedule's normal end, not a failure of the server.
        try? await cancelWhenGracefulShutdown {
            // The cluster's first node starts the clock: the first round is one interval later.
            do {
                _ = try await engine.store.claimDueRun(
                    of: Self.jobName, every: interval, node: configuration.node.node, at: configuration.clock.now())
            } catch {
                configuration.logger.error("The health-check schedule could not be read", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                try await configuration.clock.sleep(for: look)
                do {
                    guard
                        try await engine.store.claimDueRun(
                            of: Self.jobName, every: interval, node: configuration.node.node, at: configuration.clock.now())
                    else { continue }
                    for space in try await engine.store.listSpaces() {
                        let targets = try await engine.store.allTargets(spaceID: space.id)
                        _ = try await engine.checkHealth(of: targets)
                    }
                } catch {
                    engine.configuration.logger.error(
                        "Scheduled health checks could not be queued", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
