import BerthAPI
import BerthDomain
import BerthStore
import Foundation
import OpenAPIRuntime

/// The audit log: reading it and checking its chain.
extension APIService {
    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let limit = try Paging.limit(input.query.limit, default: 100)
        let events = try await store.auditEvents(
            BerthStore.AuditFilter(
                since: input.query.since, actor: input.query.actor, action: input.query.action, record: input.query.record,
                before: input.query.before, limit: limit + 1))
        let page = Array(events.prefix(limit))
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: try page.map(Self.auditSchema),
                        nextBefore: events.count > limit ? page.last?.sequence : nil))))
    }

    func verifyAudit(_ input: Operations.VerifyAudit.Input) async throws -> Operations.VerifyAudit.Output {
        let (checked, broken) = try await store.verifyAudit(key: secrets.auditChainKey)
        let message =
            broken.map {
                "The audit log was changed: event \($0.sequence) (\($0.action) \($0.record)) does not match its chain; the \(checked) events before it do."
            } ?? "The audit log is intact: \(checked) events, each following from the one before."
        return .ok(
            .init(body: .json(.init(checked: checked, intact: broken == nil, brokenAt: broken?.sequence, message: message))))
    }

    static func auditSchema(_ event: AuditEvent) throws -> Components.Schemas.AuditEvent {
        Components.Schemas.AuditEvent(
            sequence: event.sequence, occurredAt: event.occurredAt, actor: event.actor, keyName: event.keyName,
            address: event.address, action: event.action, record: event.record,
            details: try JSONDecoder().decode(OpenAPIValueContainer.self, from: Data(event.details.rendered().utf8)))
    }
}
