import AWSCore
import BerthDomain
import BerthStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The built-in worker: takes queued tasks, runs them with a bound on concurrency, and records
/// each one's outcome. On start it fails the tasks a previous process left executing and resumes
/// the ones still queued. On graceful shutdown it stops taking tasks and cancels the running ones,
/// which record themselves as cancelled before the store closes.
public struct TaskRunner: Service {
    let store: BerthStore
    let queue: TaskQueue
    let executors: [ServerTask.Kind: any TaskExecutor]
    let configuration: EngineConfiguration
    let running: RunningTasks
    let logSink: LogSink

    init(
        store: BerthStore, queue: TaskQueue, executors: [any TaskExecutor], configuration: EngineConfiguration,
        running: RunningTasks = RunningTasks()
    ) {
        self.store = store
        self.queue = queue
        self.executors = Dictionary(executors.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.configuration = configuration
        self.running = running
        logSink = LogSink(store: store, logger: configuration.logger)
    }

    public func run() async throws {
        let clock = configuration.clock
        let abandoned = try await store.failAbandonedTasks(
            reason: "The server stopped while this task was executing; it did not finish.", at: clock.now())
        if !abandoned.isEmpty {
            configuration.logger.warning("Marked tasks left executing as failed", metadata: ["tasks.count": "\(abandoned.count)"])
        }
        for task in try await store.queuedTasks() { queue.enqueue(task.id) }

        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { services in
                services.addTask { await logSink.run() }
                await withTaskGroup(of: Void.self) { group in
                    var running = 0
                    for await taskID in queue.stream {
                        if running >= configuration.maximumConcurrentTasks {
                            await group.next()
                            running -= 1
                        }
                        running += 1
                        group.addTask { await runTask(taskID) }
                    }
                    await group.waitForAll()
                }
                services.cancelAll()
            }
        }
    }

    /// Runs one task from queued to finished. Errors never escape: they become the outcome.
    func runTask(_ taskID: String) async {
        let clock = configuration.clock
        let logger = configuration.logger
        do {
            guard try await store.startTask(id: taskID, at: clock.now()), let task = try await store.task(id: taskID) else {
                return
            }
            let log = TaskLogWriter(
                taskID: taskID, sink: logSink, lineLimit: configuration.maximumLogLines, clock: { clock.now() })
            var result: ExecutionResult
            if Task.isCancelled {
                result = ExecutionResult(outcome: TaskOutcome(state: .cancelled, errorMessage: "The server shut down."))
            } else if let executor = executors[task.kind] {
                let work = Task { try await executor.execute(task, log: log) }
                running.register(taskID, work)
                defer { running.remove(taskID) }
                do {
                    result = try await withTaskCancellationHandler {
                        try await work.value
                    } onCancel: {
                        work.cancel()
                    }
                    if work.isCancelled, result.outcome.state != .cancelled {
                        result = ExecutionResult(outcome: TaskOutcome(state: .cancelled, errorMessage: "Cancelled."))
                    }
                } catch is CancellationError {
                    let reason = Task.isCancelled ? "Cancelled: the server is shutting down." : "Cancelled."
                    result = ExecutionResult(outcome: TaskOutcome(state: .cancelled, errorMessage: reason))
                } catch {
                    let message = await log.masked(describe(error)) ?? ""
                    result = ExecutionResult(outcome: TaskOutcome(state: .failed, errorMessage: message))
                }
            } else {
                result = ExecutionResult(
                    outcome: TaskOutcome(
                        state: .failed, errorMessage: "This server has no executor for \(task.kind.rawValue) tasks."))
            }
            var outcome = result.outcome
            outcome.errorMessage = await log.masked(outcome.errorMessage)
            await logSink.flush()
            let dropped = await log.droppedLinesNotice()
            let closing = await log.nextLine(
                outcome.state == .succeeded ? .info : .error,
                "Task \(outcome.state.phrase)" + (outcome.errorMessage.map { ": \($0)" } ?? "."))
            let finished = try await configuration.databaseRetry.run(
                "finish the task", logger: logger, metadata: ["task.id": "\(taskID)"]
            ) {
                try await store.finishTask(
                    id: taskID, outcome: outcome, at: clock.now(), lastLines: (dropped.map { [$0] } ?? []) + [closing],
                    targetHealth: result.targetHealth.flatMap { health in task.targetID.map { ($0, health) } })
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

/// The tasks executing on this node, so that one can be cancelled by id.
final class RunningTasks: Sendable {
    private let tasks = Mutex<[String: Task<ExecutionResult, any Error>]>([:])

    init() {}

    func register(_ id: String, _ task: Task<ExecutionResult, any Error>) { tasks.withLock { $0[id] = task } }
    func remove(_ id: String) { _ = tasks.withLock { $0.removeValue(forKey: id) } }

    func cancel(_ id: String) -> Bool {
        guard let task = tasks.withLock({ $0[id] }) else { return false }
        task.cancel()
        return true
    }
}
