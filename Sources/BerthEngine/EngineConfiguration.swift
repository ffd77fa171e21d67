import AWSCore
import AWSCredentials
import BerthDomain
import BerthStore
import BerthWorker
import Foundation
import Logging

/// What the engine needs from the outside, read once at the edge.
public struct EngineConfiguration: Sendable {
    /// The region for AWS calls when nothing names one (an account without a default region, a
    /// script step on the worker without `region`).
    public static let fallbackRegion = "us-east-1"

    /// The server's environment: the worker's ambient credentials and `AWS_ENDPOINT_URL*`.
    public var environment: EnvironmentVariables
    /// How many tasks run at once on this node (`--task-cap`). Deployments spend most of their time
    /// waiting for ECS, so the bound is generous.
    public var maximumConcurrentTasks: Int
    /// This node (`--node-name`) in this run of its process: the owner of the tasks it claims.
    public var node: TaskOwner
    /// How long a claimed task stays this node's without a renewal, and how often leases are
    /// renewed (with the node's heartbeat): a task of a node that died is taken over once its lease
    /// has run out.
    public var taskLease: Duration = .seconds(15)
    public var leaseRenewal: Duration = .seconds(5)
    /// How often the node looks for queued tasks and for cancel requests of its tasks when nothing
    /// wakes it sooner (a task queued through this node wakes it at once).
    public var claimPollInterval: Duration = .seconds(1)
    /// How often every target is health-checked; nil turns the schedule off.
    public var healthCheckInterval: Duration?
    /// How long audit events are kept (`--audit-retention-days`); nil keeps them for ever.
    public var auditRetention: Duration?
    /// How often a deployment asks ECS how its services and tasks are doing (one DescribeServices
    /// per cluster and identity for all of them).
    public var deploymentPollInterval: Duration
    /// How many targets one step runs on at once.
    public var maximumParallelTargets: Int
    /// The shell for Run AWS CLI script steps.
    public var bash: String
    /// Whom Run AWS CLI script steps run as.
    public var scriptUser: ScriptUser
    /// util-linux's `setpriv`, which starts a script as ``scriptUser``.
    public var setpriv: String
    public var clock: any AWSClock
    public var transport: any HTTPTransport
    public var logger: Logger
    /// The most lines one task's log keeps (`--max-task-log-lines`); later lines are counted and
    /// dropped, and the log's last lines say so.
    public var maximumLogLines = 100_000
    /// Whether this node runs the default pools' step jobs inside its own process
    /// (`--builtin-worker in-process`). Otherwise they are queued for a worker: the node's
    /// built-in worker process (`on`) or external workers of the pool.
    public var inProcessWorker = true
    /// How long an external worker holds a job without renewing: a worker that stops answering
    /// loses it after this, and another worker of the pool carries the step on.
    public var jobLease: Duration = .seconds(30)

    public init(
        environment: EnvironmentVariables = .process, maximumConcurrentTasks: Int = 100,
        node: TaskOwner = TaskOwner(node: ProcessInfo.processInfo.hostName),
        healthCheckInterval: Duration? = .seconds(3600), deploymentPollInterval: Duration = .seconds(5),
        maximumParallelTargets: Int = 10, bash: String = "/bin/bash", scriptUser: ScriptUser = ScriptUser(),
        setpriv: String = "/usr/bin/setpriv", clock: any AWSClock = SystemClock(),
        transport: any HTTPTransport = AsyncHTTPTransport.shared, logger: Logger = Logger(label: "berth.engine")
    ) {
        self.environment = environment
        self.maximumConcurrentTasks = maximumConcurrentTasks
        self.node = node
        self.healthCheckInterval = healthCheckInterval
        self.deploymentPollInterval = deploymentPollInterval
        self.maximumParallelTargets = maximumParallelTargets
        self.bash = bash
        self.scriptUser = scriptUser
        self.setpriv = setpriv
        self.clock = clock
        self.transport = transport
        self.logger = logger
    }

    /// How a write that must not be lost (a task's outcome, a service lock's release) is retried
    /// after a transient database failure: paused on the engine's clock. A shutdown cancels the
    /// task that writes, but not this write: its pauses then run on a timer that ignores cancellation.
    var databaseRetry: TransientRetry {
        let clock = self.clock
        return TransientRetry(sleep: { duration in
            do {
                try await clock.sleep(for: duration)
            } catch is CancellationError {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + duration.timeInterval) { continuation.resume() }
                }
            }
        })
    }
}

extension EngineConfiguration {
    /// What the built-in worker runs step jobs with: this node's environment, clock, transport and
    /// script settings.
    public var worker: WorkerConfiguration {
        WorkerConfiguration(
            environment: environment, deploymentPollInterval: deploymentPollInterval, bash: bash, scriptUser: scriptUser,
            setpriv: setpriv, clock: clock, transport: transport, logger: logger)
    }

    /// A client of `service` in `region` that honours `AWS_ENDPOINT_URL*` of this environment.
    func client(
        for service: AWSServiceDescriptor, region: String, credentials: any CredentialProvider
    ) throws(AWSClientError) -> AWSClient {
        try worker.client(for: service, region: region, credentials: credentials)
    }
}
