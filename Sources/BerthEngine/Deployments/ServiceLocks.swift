import AWSCore
import BerthDomain
import BerthStore
import BerthWorker
import Foundation
import Logging

/// One deployment at a time per ECS service, across tasks and server nodes (the lock is a row in
/// the store). A second deployment of the same service waits, saying for whom, up to a limit.
struct ServiceLocks: Sendable {
    let store: BerthStore
    let clock: any AWSClock
    let retryInterval: Duration
    let retry: TransientRetry
    let logger: Logger

    func withLock<Result: Sendable>(
        _ key: String, taskID: String, waitAtMost limit: Duration, log: LogSection,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let started = clock.now()
        var reported = false
        while let holder = try await store.acquireServiceLock(key, taskID: taskID, at: clock.now()) {
            if !reported {
                await log.warning(
                    "Waiting: task \(holder) is deploying the same service (\(key)); deployments of one service never interleave."
                )
                reported = true
            }
            if clock.now().timeIntervalSince(started) >= limit.timeInterval {
                throw BerthError(
                    .conflict,
                    "The service \(key) is still being deployed by task \(holder) after \(Int(limit.timeInterval)) s; try again when it has finished."
                )
            }
            try await clock.sleep(for: retryInterval)
        }
        if reported { await log.info("The other deployment of \(key) has finished; going ahead.") }
        do {
            let result = try await body()
            await release(key, taskID: taskID)
            return result
        } catch {
            // Handed over to another node, the task keeps its lock: that node carries the
            // deployment on, and no other deployment of the service may slip in meanwhile.
            if !WorkStop.isHandingOver { await release(key, taskID: taskID) }
            throw error
        }
    }

    /// Releases the lock, retrying transient database failures. A lock that still cannot be
    /// released is logged; the next deployment of the service takes it over once this task has
    /// finished, so it delays that deployment at most until then.
    func release(_ key: String, taskID: String) async {
        let metadata: Logger.Metadata = ["service.key": "\(key)", "task.id": "\(taskID)"]
        do {
            try await retry.run("release the service lock", logger: logger, metadata: metadata) {
                try await store.releaseServiceLock(key, taskID: taskID)
            }
        } catch {
            var details = metadata
            details["error"] = "\(String(describing: error))"
            logger.error(
                "A service lock could not be released; it is taken over when its task has finished", metadata: details)
        }
    }
}
