import AWSCore
import BerthDomain
import BerthStore
import BerthWorker
import Crypto
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The built-in worker of this node: claims queued tasks from the database (``BerthStore/claimTasks(for:limit:at:leaseUntil:)``),
/// runs at most `maximumConcurrentTasks` at once, keeps their leases alive, and records each
/// one's outcome. Every node of a cluster runs one; the database decides which node runs a task.
///
/// - A task queued through this node wakes it at once (``TaskQueue``); tasks queued through other
///   nodes are found by a poll every `claimPollInterval`.
/// - Every `leaseRenewal` the node renews its leases and records its heartbeat; a task whose lease
///   it lost (another node took it over) is stopped here. Every poll it also looks for cancel
///   requests of its tasks, made through any node.
/// - Tasks whose node is gone (lease run out, or this node's previous run) are adopted when this
///   node has room, before anything new is claimed: a deployment carries on from the progress its
///   steps recorded (``StepProgress``); a health check or account test simply runs again.
/// - A draining node (`berth node drain`) claims nothing and finishes what it runs.
///
/// On graceful shutdown it stops claiming and hands its running tasks over: each one's work stops
/// (leaving what it started in AWS running), its lease is given up with a line in its log, and
/// another node — or this one's next start — adopts it and carries it on.
public struct TaskRunner: Service {
    let store: BerthStore
    let queue: TaskQueue
    let executors: [ServerTask.Kind: any TaskExecutor]
    let configuration: EngineConfiguration
    let running: RunningTasks
    let logSink: LogSink
    let started: NodeStarted
    /// The audit chain's key: the outcome of a task someone queued is an audit event.
    let auditKey: SymmetricKey?

    init(
        store: BerthStore, queue: TaskQueue, executors: [any TaskExecutor], configuration: EngineConfiguration,
        running: RunningTasks = RunningTasks(), started: NodeStarted = NodeStarted(), auditKey: SymmetricKey? = nil
    ) {
        self.started = started
        self.auditKey = auditKey
        self.store = store
        self.queue = queue
        self.executors = Dictionary(executors.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.configuration = configuration
        self.running = running
        logSink = LogSink(store: store, owner: configuration.node, logger: configuration.logger)
    }

    var owner: TaskOwner { configuration.node }

    /// The node is shutting down (gracefully, or its task was cancelled): nothing new starts.
    var isStopping: Bool { running.isStopping || Task.isCancelled }

    public func run() async throws {
        // It blocks (a /proc scan, kills, a `find` over /tmp): on a thread of its own, not the pool's.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                sweepScriptLeftovers()
                done.resume()
            }
        }
        try await warnAboutClockSkew()
        try await refuseNameInUse()
        let started = configuration.clock.now()
        _ = try await heartbeat(started: started)
        self.started.open()
        // Leases are kept and logs flushed until every task has ended, shutdown or not: a task
        // winding down after a graceful shutdown must still be this node's when it records its end.
        await withTaskGroup(of: Void.self) { services in
            services.addTask { await logSink.run() }
            services.addTask { await keepLeases(started: started) }
            services.addTask { await listenForQueuedTasks() }
            // A graceful shutdown does not cancel this loop's task: it stops the claims and the work
            // of each running task, so that each can still write its handover to the database.
            await withGracefulShutdownHandler {
                // A discarding group: a task that ends leaves nothing behind; the group's end waits for all.
                await withDiscardingTaskGroup { group in
                    while !isStopping {
                        let claimed = await claim()
                        for work in claimed {
                            group.addTask {
                                await runTask(work)
                                queue.wake()
                            }
                        }
                        if claimed.isEmpty || running.count >= configuration.maximumConcurrentTasks {
                            await queue.wait(upTo: configuration.claimPollInterval)
                        }
                    }
                }
            } onGracefulShutdown: {
                running.stopAll()
                queue.wake()
            }
            services.cancelAll()
        }
    }

    /// On PostgreSQL, wakes this node as soon as any node queues a task (LISTEN/NOTIFY), so a task
    /// queued through another node starts here without waiting for the poll; reconnects after a
    /// failure, while the poll carries on.
    func listenForQueuedTasks() async {
        guard store.database.dialect == .postgres else { return }
        while !Task.isCancelled {
            do {
                try await store.listenForQueuedTasks { queue.wake() }
            } catch {
                if Task.isCancelled { return }
                configuration.logger.warning(
                    "Listening for queued tasks failed; polling every \(configuration.claimPollInterval) until it is back",
                    metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: .seconds(5))
            } catch {
                return
            }
        }
    }

    /// A task this node now holds: claimed from the queue, or adopted (then with the number of its
    /// last log line, and given up when its node died under it too often).
    struct Claimed: Sendable {
        var task: ServerTask
        var lastLogSequence: Int
        var givenUp: Bool
    }

    /// Adopts abandoned tasks, then claims queued ones, as many as this node has room for. Nothing
    /// when it has no room or the database fails (logged).
    func claim() async -> [Claimed] {
        var work: [Claimed] = []
        do {
            for adopted in try await adoptAbandonedTasks(limit: configuration.maximumConcurrentTasks - running.count) {
                running.reserve(adopted.task.id)
                work.append(
                    Claimed(task: adopted.task, lastLogSequence: adopted.lastLogSequence, givenUp: adopted.fate == .failed))
            }
        } catch {
            configuration.logger.error("Abandoned tasks could not be adopted", metadata: ["error": "\(error)"])
        }
        let room = configuration.maximumConcurrentTasks - running.count
        guard room > 0 else { return work }
        do {
            let now = configuration.clock.now()
            let claimed = try await store.claimTasks(
                for: owner, limit: room, at: now, leaseUntil: now.addingTimeInterval(configuration.taskLease.timeInterval))
            for task in claimed { running.reserve(task.id) }
            if !claimed.isEmpty { Counter(label: "berth_tasks_claimed_total").increment(by: claimed.count) }
            work += claimed.map { Claimed(task: $0, lastLogSequence: 0, givenUp: false) }
        } catch {
            configuration.logger.error("Queued tasks could not be claimed", metadata: ["error": "\(error)"])
        }
        return work
    }

    /// Renews leases and the heartbeat every `leaseRenewal`, and every `claimPollInterval` passes on
    /// cancel requests; stops the work of a task whose lease this node lost, or could not renew
    /// for nearly a lease (another node adopts it then); until cancelled.
    func keepLeases(started: Date) async {
        var sinceRenewal = Duration.zero
        var lastRenewed = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.claimPollInterval)
            } catch {
                return
            }
            sinceRenewal += configuration.claimPollInterval
            // Cut off from the database for nearly a lease: other nodes take these tasks over
            // soon, so this node stops working on them now rather than alongside the new holder.
            let silent = ContinuousClock.now - lastRenewed
            if silent >= configuration.taskLease - configuration.claimPollInterval {
                for id in running.ids where running.cancel(id, .handedOver) {
                    Counter(label: "berth_lease_renewals_failed_total").increment()
                    configuration.logger.error(
                        "This node could not renew its task leases for \(silent); the task is stopped here before another node takes it over",
                        metadata: ["task.id": "\(id)"])
                }
            }
            do {
                for id in try await store.cancelRequests(of: owner) where running.cancel(id, .cancelled) {
                    configuration.logger.info("Cancelling a task on request", metadata: ["task.id": "\(id)"])
                }
                guard sinceRenewal >= configuration.leaseRenewal else { continue }
                sinceRenewal = .zero
                // Only tasks claimed before the renewal can be missing from it for a reason.
                let runningBefore = running.ids
                let now = configuration.clock.now()
                // The lease counts from before the call: a slow answer shortens it, never lengthens it.
                let renewing = ContinuousClock.now
                let held = Set(
                    try await store.renewLeases(
                        of: owner, ids: runningBefore, until: now.addingTimeInterval(configuration.taskLease.timeInterval)
                    ).map(\.id))
                lastRenewed = renewing
                for id in runningBefore where !held.contains(id) && running.cancel(id, .handedOver) {
                    Counter(label: "berth_lease_renewals_failed_total").increment()
                    configuration.logger.warning(
                        "This node lost the lease of a task (another node took it over); its work here stops",
                        metadata: ["task.id": "\(id)"])
                }
                _ = try await heartbeat(started: started)
            } catch {
                configuration.logger.error("Task leases could not be renewed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Kills what scripts left running when this server's previous run was killed (their uids
    /// are this node's range; see ``ScriptUIDPool/sweepLeftovers(group:setpriv:bash:)``).
    func sweepScriptLeftovers() {
        let scripts = configuration.scriptUser
        let resolution: ScriptUser.Resolution
        do {
            resolution = try scripts.resolve()
        } catch {
            return  // Scripts cannot run at all; the server said so at start.
        }
        guard case .user(let group) = resolution else { return }
        do {
            let swept = try scripts.uids.sweepLeftovers(group: group, setpriv: configuration.setpriv, bash: configuration.bash)
            if !swept.isEmpty {
                configuration.logger.warning(
                    "Killed processes that scripts of an earlier run left behind", metadata: ["uids": "\(swept)"])
            }
        } catch {
            configuration.logger.warning("Script leftovers could not be looked for", metadata: ["error": "\(error)"])
        }
    }

    /// Leases are written with one node's clock and compared with another's: says so loudly when
    /// this node's clock is more than a second off the database's.
    func warnAboutClockSkew() async throws {
        let before = configuration.clock.now()
        guard let database = try await store.databaseTime() else { return }
        let after = configuration.clock.now()
        let skew = database.timeIntervalSince(before.addingTimeInterval(after.timeIntervalSince(before) / 2))
        if abs(skew) > 1 {
            configuration.logger.warning(
                "This node's clock is \(String(format: "%.1f", skew)) s off the database server's. Task leases compare the clocks of different nodes: keep every node's clock in sync (NTP), or a node may take over tasks that are still running."
            )
        }
    }

    /// Refuses to run when another live process uses this node's name: the two would take each
    /// other's tasks for a previous run's. A heartbeat younger than a lease may be this node's own
    /// before a restart, so the runner waits one renewal to see whether it goes on.
    func refuseNameInUse() async throws {
        // SQLite is one node's own file: there is no other node to mistake for this one.
        guard store.database.dialect == .postgres else { return }
        guard let last = try await store.lastHeartbeat(of: owner.node), last.instance != owner.instance,
            configuration.clock.now().timeIntervalSince(last.at) < configuration.taskLease.timeInterval
        else { return }
        try await Task.sleep(for: configuration.leaseRenewal + configuration.claimPollInterval)
        guard let again = try await store.lastHeartbeat(of: owner.node), again.instance == last.instance, again.at > last.at
        else { return }
        throw BerthError(
            .conflict,
            "Another server node named '\(owner.node)' is running on this database (it sent a heartbeat at \(again.at)). Give every node its own --node-name."
        )
    }

    /// Records this node's heartbeat; returns whether it is draining.
    func heartbeat(started: Date) async throws -> Bool {
        let draining = try await store.recordHeartbeat(
            ClusterNode(
                name: owner.node, host: ProcessInfo.processInfo.hostName, version: BerthVersion.current, startedAt: started,
                lastSeenAt: configuration.clock.now(), running: running.count, taskCap: configuration.maximumConcurrentTasks,
                draining: false),
            instance: owner.instance)
        Gauge(label: "berth_tasks_running").record(running.count)
        return draining
    }

    /// How many times a task is adopted after its node died under it before it is given up.
    static let maximumAdoptions = 3

    /// Adopts up to `limit` tasks whose node is gone (``BerthStore/adoptAbandonedTasks(by:limit:at:leaseUntil:maximumAdoptions:note:)``).
    func adoptAbandonedTasks(limit: Int) async throws -> [AdoptedTask] {
        let node = owner.node
        let now = configuration.clock.now()
        let adopted = try await store.adoptAbandonedTasks(
            by: owner, limit: limit, at: now, leaseUntil: now.addingTimeInterval(configuration.taskLease.timeInterval),
            maximumAdoptions: Self.maximumAdoptions
        ) { previous, fate in
            let what =
                if let previous, previous != node {
                    "The node \(previous) stopped answering while it ran this task (its lease ran out)"
                } else {
                    "The server stopped while it ran this task (node \(node) restarted)"
                }
            let carryOn = "Node \(node) took it over at \(now.ISO8601Format()) and carries on from what was recorded."
            switch fate {
            case .adopted:
                return "\(what). \(carryOn)"
            case .handedOver:
                return "The node \(previous ?? node) handed this task over as it shut down. \(carryOn)"
            case .failed:
                return
                    "\(what), for the \(Self.maximumAdoptions + 1)th time. Node \(node) gives it up: it fails without running again."
            }
        }
        if !adopted.isEmpty {
            Counter(label: "berth_tasks_adopted_total").increment(by: adopted.count)
            configuration.logger.warning(
                "Adopted tasks whose node stopped", metadata: ["tasks.count": "\(adopted.count)", "node": "\(node)"])
        }
        return adopted
    }

    /// Runs a claimed or adopted task to its end and records the outcome; its log lines follow
    /// the ones it has. An adopted task given up, or cancelled while its node was dead, is not
    /// run: its executor cleans up, and it fails or is cancelled.
    func runTask(_ work: Claimed) async {
        let (task, lastLogSequence) = (work.task, work.lastLogSequence)
        let taskID = task.id
        let clock = configuration.clock
        let logger = configuration.logger
        defer { running.remove(taskID) }
        do {
            let log = TaskLogWriter(
                taskID: taskID, sink: logSink, lineLimit: configuration.maximumLogLines, after: lastLogSequence,
                clock: { clock.now() })
            var result: ExecutionResult
            if work.givenUp {
                await executors[task.kind]?.giveUp(task, log: log, because: .failed)
                result = ExecutionResult(
                    outcome: TaskOutcome(
                        state: .failed,
                        errorMessage: "Its node stopped under it \(Self.maximumAdoptions) times; it is not run again."))
            } else if task.cancelRequested {
                // Adopted with a cancel that its dead node never acted on: cancelled before it does
                // anything, after what earlier runs started is stopped.
                await executors[task.kind]?.giveUp(task, log: log, because: .cancelled)
                result = ExecutionResult(outcome: TaskOutcome(state: .cancelled, errorMessage: "Cancelled."))
            } else if isStopping {
                // Claimed, but the node is shutting down before it started: another node runs it.
                // One adopted (it has a log and maybe progress already) is handed over, not queued
                // again: its next holder numbers its lines after the ones it has.
                if lastLogSequence > 0 {
                    await handOver(taskID, log: log)
                } else {
                    try await store.releaseClaim(taskID: taskID, owner: owner)
                }
                return
            } else if let executor = executors[task.kind] {
                // The work is a child task racing the task's stop signal (``RunningTasks/cancel(_:_:)``,
                // by id): a stop cancels the work, which answers how it ended.
                let stop = running.stop(of: taskID)
                do {
                    result = try await withTaskCancellationHandler {
                        try await withThrowingTaskGroup(of: ExecutionResult?.self) { group in
                            group.addTask {
                                try await WorkStop.$ofCurrentTask.withValue(stop) { try await executor.execute(task, log: log) }
                            }
                            group.addTask {
                                await stop.untilStopped()
                                return nil
                            }
                            while let next = try await group.next() {
                                group.cancelAll()
                                if let result = next { return result }
                            }
                            throw CancellationError()
                        }
                    } onCancel: {
                        // The runner itself was cancelled: another node carries the task on.
                        stop.stop(.handedOver)
                    }
                    if stop.current == .cancelled, result.outcome.state != .cancelled {
                        result = ExecutionResult(outcome: TaskOutcome(state: .cancelled, errorMessage: "Cancelled."))
                    }
                } catch is CancellationError {
                    result = ExecutionResult(outcome: TaskOutcome(state: .cancelled, errorMessage: "Cancelled."))
                } catch {
                    let message = await log.masked(describe(error)) ?? ""
                    result = ExecutionResult(outcome: TaskOutcome(state: .failed, errorMessage: message))
                }
                if stop.current == .cancelled { await executor.afterCancel(task, log: log) }
            } else {
                result = ExecutionResult(
                    outcome: TaskOutcome(
                        state: .failed, errorMessage: "This server has no executor for \(task.kind.rawValue) tasks."))
            }
            // Stopped for a handover (work that ended on its own just before keeps its outcome).
            if running.stop(of: taskID).current == .handedOver, result.outcome.state == .cancelled {
                // Shutting down: the lease is given up for any node to adopt the task. Lost to
                // another node, or cut off from the database: it is not this node's to write to.
                if running.isStopping { await handOver(taskID, log: log) }
                return
            }
            var outcome = result.outcome
            outcome.errorMessage = await log.masked(outcome.errorMessage)
            await logSink.flush()
            let dropped = await log.droppedLinesNotice()
            let closing = await log.nextLine(
                outcome.state == .succeeded ? .info : .error,
                "Task \(outcome.state.phrase)" + (outcome.errorMessage.map { ": \($0)" } ?? "."))
            running.finishing(taskID)
            let finished = try await AuditTrail.$pending.withValue(outcomeEvent(task, outcome)) {
                try await configuration.databaseRetry.run(
                    "finish the task", logger: logger, metadata: ["task.id": "\(taskID)"]
                ) {
                    try await store.finishTask(
                        id: taskID, outcome: outcome, at: clock.now(), owner: owner,
                        lastLines: (dropped.map { [$0] } ?? []) + [closing],
                        targetHealth: result.targetHealth.flatMap { health in task.targetID.map { ($0, health) } })
                }
            }
            guard finished else {
                logger.warning(
                    "A task was no longer executing when it ended; the outcome recorded first stands",
                    metadata: ["task.id": "\(taskID)", "task.outcome": "\(outcome.state.rawValue)"])
                return
            }
            Counter(label: "berth_tasks_total", dimensions: [("kind", task.kind.rawValue), ("state", outcome.state.rawValue)])
                .increment()
        } catch {
            logger.error("A task could not be recorded", metadata: ["task.id": "\(taskID)", "error": "\(error)"])
        }
    }
}

extension TaskRunner {
    /// The audit event of a task's outcome, written with it: for tasks someone queued (a
    /// deployment, a health check or test asked for), not the schedule's own health checks.
    func outcomeEvent(_ task: ServerTask, _ outcome: TaskOutcome) -> AuditTrail.Pending? {
        guard let auditKey, let queuedBy = task.queuedBy else { return nil }
        var details: [(String, JSONValue)] = [
            ("name", .string(task.description)), ("state", .string(outcome.state.rawValue)),
            ("queuedBy", .string(queuedBy)), ("node", .string(owner.node)),
        ]
        if let message = outcome.errorMessage { details.append(("errorMessage", .string(message))) }
        let event = AuditEvent(
            sequence: 0, occurredAt: configuration.clock.now(), actor: nil, keyName: nil, address: nil, action: "finishTask",
            record: "tasks/\(task.id)", details: .object(details))
        return AuditTrail.Pending(draft: event, key: auditKey)
    }

    /// Gives a task back to the cluster as this node shuts down: its lease ends now, with a line in
    /// its log, and any node (or this one's next start) adopts it at its next look.
    func handOver(_ taskID: String, log: TaskLogWriter) async {
        await logSink.flush()
        running.finishing(taskID)
        let line = await log.nextLine(
            .warning,
            "Node \(owner.node) is shutting down: it hands this task over, and the next node with room (or its own restart) carries it on from what was recorded."
        )
        do {
            let handed = try await configuration.databaseRetry.run(
                "hand the task over", logger: configuration.logger, metadata: ["task.id": "\(taskID)"]
            ) {
                try await store.handOverTask(id: taskID, owner: owner, at: configuration.clock.now(), line: line)
            }
            if handed {
                Counter(label: "berth_tasks_handed_over_total").increment()
                configuration.logger.info("Handed a task over to the cluster", metadata: ["task.id": "\(taskID)"])
            }
        } catch {
            configuration.logger.error(
                "A task could not be handed over; it is adopted when its lease runs out",
                metadata: ["task.id": "\(taskID)", "error": "\(error)"])
        }
    }
}

/// The tasks this node has claimed and not yet finished, so that one can be cancelled by id and
/// the node knows how many it runs and which leases to renew.
final class RunningTasks: Sendable {
    /// One claimed task, from its claim to the end of its outcome's write.
    private struct Entry {
        /// Cancelled already (if before its work started, the work stops as soon as it starts).
        var cancelled = false
        /// Recording its outcome: no longer worked on, no longer renewed.
        var finishing = false
        /// Why its work was stopped, if it was.
        let stop = WorkStop()
    }
    private let entries = Mutex<[String: Entry]>([:])
    private let stopping = Mutex(false)

    /// The node is shutting down gracefully (``stopAll()``).
    var isStopping: Bool { stopping.withLock { $0 } }

    /// A graceful shutdown: no new work, and every task's work stops for a handover.
    func stopAll() {
        stopping.withLock { $0 = true }
        for id in ids { _ = cancel(id, .handedOver) }
    }

    init() {}

    var count: Int { entries.withLock { $0.count } }
    /// The tasks still worked on (claimed and not yet recording their outcome).
    var ids: [String] { entries.withLock { $0.filter { !$0.value.finishing }.map(\.key) } }

    func reserve(_ id: String) { entries.withLock { $0[id] = Entry() } }

    func finishing(_ id: String) { entries.withLock { $0[id]?.finishing = true } }

    func remove(_ id: String) { _ = entries.withLock { $0.removeValue(forKey: id) } }

    /// The task's ``WorkStop`` (a fresh one for a task this node does not hold).
    func stop(of id: String) -> WorkStop { entries.withLock { $0[id]?.stop } ?? WorkStop() }

    /// Stops the task's work for `reason` if this node runs it; false when it does not, or did so before.
    func cancel(_ id: String, _ reason: WorkStop.Reason) -> Bool {
        let stop = entries.withLock { entries -> WorkStop? in
            guard var entry = entries[id], !entry.cancelled else { return nil }
            entry.cancelled = true
            entries[id] = entry
            return entry.stop
        }
        guard let stop else { return false }
        stop.stop(reason)
        return true
    }
}

/// A one-way latch: closed until this process holds its node name, then open for good. What must
/// not act for a node that turns out to be another's twin (its built-in worker) waits for it.
public final class NodeStarted: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Returns true once the node has started; false when the waiting task is cancelled first.
    public func wait() async -> Bool {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow: Bool? = state.withLock { state in
                    if state.isOpen { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }
}
