import ServiceLifecycle
import Synchronization

/// The calls a step makes on its way out after it was cancelled — StopTask of the ECS tasks it
/// started, StopServiceDeployment of a rollout (`rollbackOnCancel`), the withdrawal of questions
/// it asked. They run as child tasks of this service's `run()`, not of the cancelled step, so the
/// cancellation does not cut them short, and a shutdown waits for them.
///
/// ```swift
/// await worker.cleanup.perform {  // awaits the call's end
///     do { _ = try await ecs.stopTask(request) } catch { await log.error("Could not stop \(arn): \(error)") }
/// }
/// ```
public final class CleanupCalls: Service, Sendable {
    private struct Call: Sendable {
        let body: @Sendable () async -> Void
        /// Resumed with true once the service has run `body`.
        let done: CheckedContinuation<Bool, Never>
    }

    private let calls = AsyncStream.makeStream(of: Call.self)
    private let accepting = Mutex(false)

    public init() {}

    /// Runs `body` as a child task of the service and returns when it has ended, whether or not
    /// the caller is cancelled meanwhile. Before the service runs, and after it has stopped, it
    /// runs `body` in the caller (a cancelled caller's calls may then fail at once).
    public func perform(_ body: @escaping @Sendable () async -> Void) async {
        let ranInService = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            let queued = accepting.withLock { accepting in
                guard accepting, case .enqueued = calls.continuation.yield(Call(body: body, done: done)) else { return false }
                return true
            }
            if !queued { done.resume(returning: false) }
        }
        if !ranInService { await body() }
    }

    /// Takes calls until shutdown, then lets those under way finish.
    public func run() async {
        accepting.withLock { $0 = true }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await call in calls.stream {
                    group.addTask {
                        await call.body()
                        call.done.resume(returning: true)
                    }
                }
            }
        } onGracefulShutdown: {
            self.accepting.withLock { $0 = false }
            self.calls.continuation.finish()
        }
        accepting.withLock { $0 = false }
    }
}
