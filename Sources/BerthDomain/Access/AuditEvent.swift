import Foundation

/// One entry of the audit log: who did what to which record, when and from where. Written in the
/// transaction of the change itself, and chained: its tag is an HMAC of the previous entry's tag
/// and its own content, under a key derived from the master key.
public struct AuditEvent: Sendable, Hashable, Codable {
    public var sequence: Int
    public var occurredAt: Date
    /// The username, and the name of the key the request came with; nil for logins, which have
    /// no caller yet (the username tried is in `details`).
    public var actor: String?
    public var keyName: String?
    public var address: String?
    /// The action: the operation as `openapi.yaml` names it (`createEnvironment`, `createSession`…),
    /// or what the server did on its own (`finishTask`, `cutAuditLog`…).
    public var action: String
    /// The record acted on, by kind and id (`environments/env-…`; see ``AuditedRecord``).
    public var record: String
    /// The record's name, the fields changed (before and after; secrets only as "(changed)"), and
    /// what else the action tells (a login's outcome, a task's state).
    public var details: JSONValue
    public var tag: String

    public init(
        sequence: Int, occurredAt: Date, actor: String?, keyName: String?, address: String?, action: String, record: String,
        details: JSONValue, tag: String = ""
    ) {
        self.sequence = sequence
        self.occurredAt = occurredAt
        self.actor = actor
        self.keyName = keyName
        self.address = address
        self.action = action
        self.record = record
        self.details = details
        self.tag = tag
    }

    /// The bytes the tag covers: every field but the tag, in a fixed order.
    public var content: Data {
        let fields: [String] = [
            String(sequence), String(Int64((occurredAt.timeIntervalSince1970 * 1000).rounded())), actor ?? "", keyName ?? "",
            address ?? "", action, record, details.sortedKeys.rendered(),
        ]
        return Data(fields.map { "\($0.utf8.count):\($0)" }.joined().utf8)
    }
}
