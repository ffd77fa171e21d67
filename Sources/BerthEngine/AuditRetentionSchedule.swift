import AWSCore
import AWSRules
import BerthDomain
import BerthStore
import Crypto
import Foundation
import Logging
import ServiceLifecycle

/// Removes audit events older than the retention (`--audit-retention-days`), once an hour and
/// once per cluster (the database gives each round to one node). Each cut is itself an event, and
/// the chain stays verifiable from the cut on (``BerthStore/cutAudit(olderThan:key:at:)``).
struct AuditRetentionSchedule: Service {
    static let jobName = "audit-retention"
    static let interval: Duration = .seconds(3600)
    let engine: Engine
    let retention: Duration
    let key: SymmetricKey

    func run() async throws {
        let configuration = engine.configuration
        // Shutdown cancels the sleep; that is the schedule's normal end, not a failure of the server.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let now = configuration.clock.now()
                    if try await engine.store.claimDueRun(
                        of: Self.jobName, every: Self.interval, node: configuration.node.node, at: now, firstRunDue: true)
                    {
                        let removed = try await engine.store.cutAudit(
                            olderThan: now.addingTimeInterval(-retention.timeInterval), key: key, at: now)
                        if removed > 0 {
                            configuration.logger.info(
                                "Audit events past their retention were removed", metadata: ["audit.removed": "\(removed)"])
                        }
                    }
                } catch {
                    configuration.logger.error("The audit retention cut failed", metadata: ["error": "\(error)"])
                }
                try await configuration.clock.sleep(for: .seconds(60))
            }
        }
    }
}
