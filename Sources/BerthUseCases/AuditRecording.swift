import BerthDomain
import BerthStore
import Foundation

/// How use cases leave their audit events: the event is made before the write and handed to the
/// store through ``AuditTrail/pending``, which writes it in the write's own transaction — so the
/// change cannot commit without its event, nor the event without its change. A write that turns
/// out to change nothing (no transaction) leaves no event.
extension UseCases {
    /// Runs `write` with the event of `action` on the record `reference` pending (`address`: where
    /// a request without a requester, a login, came from).
    @discardableResult
    func audited<T: Sendable>(
        _ action: String, record reference: String, name: String?, details: [(String, JSONValue)] = [],
        by requester: Requester?, address: String? = nil, _ write: () async throws -> T
    ) async throws -> T {
        var members: [(String, JSONValue)] = []
        if let name { members.append(("name", .string(name))) }
        members += details
        let event = AuditEvent(
            sequence: 0, occurredAt: now(), actor: requester?.user.username, keyName: requester?.caller.keyName,
            address: requester?.address ?? address, action: action, record: reference, details: .object(members))
        return try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: event, key: secrets.auditChainKey)) {
            try await write()
        }
    }

    /// Runs `write` with the event of `action` pending: the record's name and the fields that
    /// differ between `before` and `after` (nil: it did not exist, or no longer does), secrets
    /// only as "(changed)", and `also`.
    @discardableResult
    func audited<R: AuditedRecord, T: Sendable>(
        _ action: String, before: R?, after: R?, also: [(String, JSONValue)] = [], by requester: Requester,
        _ write: () async throws -> T
    ) async throws -> T {
        let record = after ?? before
        return try await audited(
            action, record: record?.auditReference ?? "", name: record?.auditName,
            details: [("changes", AuditChanges.between(before?.auditFields, after?.auditFields))] + also, by: requester,
            write)
    }
}
