import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import OpenAPIRuntime

/// The audit log: reading it and checking its chain.
extension APIService {
    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let limit = try Paging.limit(input.query.limit, default: 100)
        let events = try await useCases.auditEvents(
            BerthStore.AuditFilter(
                since: input.query.since, actor: input.query.actor, action: input.query.action, record: input.query.record,
                before: input.query.before, limit: limit + 1),
            by: try requester())
        let page = Array(events.prefix(limit))
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.map(Self.auditSchema),
                        nextBefore: events.count > limit ? page.last?.sequence : nil))))
    }

    func verifyAudit(_ input: Operations.VerifyAudit.Input) async throws -> Operations.VerifyAudit.Output {
        let result = try await useCases.verifyAudit(by: try requester())
        let start = result.startsAfter > 0 ? " since the retention cut after event \(result.startsAfter)" : ""
        let message =
            if result.brokenAnchor {
                "The audit log was changed: its retention anchor (the start of the chain, after event \(result.startsAfter)) does not match its seal."
            } else if let broken = result.broken {
                "The audit log was changed: event \(broken.sequence) (\(broken.action) \(broken.record)) does not match its chain; the \(result.checked) events before it\(start) do."
            } else {
                "The audit log is intact: \(result.checked) events\(start), each following from the one before."
            }
        return .ok(
            .init(
                body: .json(
                    .init(
                        checked: result.checked, intact: result.isIntact,
                        brokenAt: result.broken?.sequence ?? (result.brokenAnchor ? result.startsAfter : nil),
                        message: message))))
    }

    static func auditSchema(_ event: AuditEvent) throws -> Components.Schemas.AuditEvent {
        Components.Schemas.AuditEvent(
            sequence: event.sequence, occurredAt: event.occurredAt, actor: event.actor, keyName: event.keyName,
            address: event.address, action: event.action, record: event.record,
            details: try JSONDecoder().decode(OpenAPIValueContainer.self, from: Data(event.details.rendered().utf8)))
    }
}
