import AWSCore
import BerthDomain
import BerthStore
import Foundation

/// One deployment at a time per ECS service, across tasks and server nodes (the lock is a row in
/// the store). A second deployment of the same service waits, saying for whom, up to a limit.
struct ServiceLocks: Sendable {
    let store: BerthStore
    let clock: any AWSClock
    let retryInterval: Duration

    static func key(region: String, cluster: String, service: String) -> String { "\(region)/\(cluster)/\(service)" }

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
            try? await store.releaseServiceLock(key, taskID: taskID)
            return result
        } catch {
            try? await store.releaseServiceLock(key, taskID: taskID)
            throw error
        }
    }
}
