import Foundation

/// Runs blocking work (a `recv`, a `waitpid`, a pipe read to its end) on a thread of its own and
/// awaits its result.
///
/// Tests run in one process on the concurrency pool, which has a thread per core: two tests that
/// block a pool thread each on a two-core machine stop every other task of the process, the
/// in-process servers that would answer them included, until some timeout gives. Blocking calls
/// in a test go through here.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}

/// ``onOwnThread(_:)`` for work that throws.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result(catching: work)) }
    }
}
