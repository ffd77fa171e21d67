/// Hands queued task ids from whoever records them (API, scheduler) to the task runner.
public struct TaskQueue: Sendable {
    let stream: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: String.self)
    }

    public func enqueue(_ taskID: String) {
        continuation.yield(taskID)
    }

    func finish() {
        continuation.finish()
    }
}
