import Synchronization

/// Why a task's work was stopped before its end. Steps that started something in AWS ask it when
/// they are cancelled: a cancel by a user stops what they started (a Run ECS task's tasks); a
/// handover (this node shuts down, or lost the task to another node) leaves it running for the
/// node that carries the deployment on.
public final class WorkStop: Sendable {
    public enum Reason: Sendable {
        /// Someone cancelled the task.
        case cancelled
        /// This node gives the task up and another node (or its own restart) carries it on.
        case handedOver
    }

    private let reason = Mutex<Reason?>(nil)
    private let signal: AsyncStream<Never>
    private let signalEnd: AsyncStream<Never>.Continuation

    public init() {
        (signal, signalEnd) = AsyncStream.makeStream(of: Never.self)
    }

    /// The first reason given wins; the first stop ends ``untilStopped()``.
    public func stop(_ reason: Reason) {
        self.reason.withLock { current in
            if current == nil { current = reason }
        }
        signalEnd.finish()
    }

    /// Returns once the work is stopped (or the calling task is cancelled). One caller: the task's runner.
    public func untilStopped() async {
        for await _ in signal {}
    }

    public var current: Reason? { reason.withLock { $0 } }

    /// The stop of the task whose work the current task belongs to (none outside a task's work).
    @TaskLocal public static var ofCurrentTask: WorkStop?

    /// Whether the current task's work is being handed over to another node, not cancelled.
    public static var isHandingOver: Bool { ofCurrentTask?.current == .handedOver }
}
