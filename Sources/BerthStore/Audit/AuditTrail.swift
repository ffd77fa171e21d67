import BerthDomain
import Crypto
import Foundation
import SQLKit
import Synchronization

/// The audit log: an event for every change a request makes, written by the database transaction
/// that makes it (``Database/transaction(_:)`` appends the request's pending event before it
/// commits), so that a change cannot commit without its event, nor an event without its change.
///
/// Events are chained: each stores HMAC-SHA-256(key, previous tag ‖ its content) under a key derived
/// from the master key, so someone holding only the database cannot rewrite an event and compute
/// the chain again; ``verify(_:key:)`` names the first event that does not match.
public enum AuditTrail {
    /// The event of the request being handled, until a transaction writes it (once).
    public final class Pending: Sendable {
        let key: SymmetricKey
        private struct State {
            var draft: AuditEvent
            var written = false
        }
        private let state: Mutex<State>

        public init(draft: AuditEvent, key: SymmetricKey) {
            self.key = key
            self.state = Mutex(State(draft: draft))
        }

        /// Adds `name: value` to the event's details (an outcome the handler knows, say), as long
        /// as it is not written yet.
        public func note(_ name: String, _ value: String) {
            state.withLock { state in
                guard case .object(var members) = state.draft.details else {
                    state.draft.details = .object([(name, .string(value))])
                    return
                }
                members.removeAll { $0.0 == name }
                members.append((name, .string(value)))
                state.draft.details = .object(members)
            }
        }

        /// Takes the event for the transaction that writes it; nil once one has.
        func take() -> AuditEvent? {
            state.withLock { state in
                defer { state.written = true }
                return state.written ? nil : state.draft
            }
        }

        /// Gives the event back when the transaction that took it rolled back.
        func giveBack() { state.withLock { $0.written = false } }
    }

    @TaskLocal public static var pending: Pending?

    /// Appends `event` after the last one, in `db`'s transaction. PostgreSQL: appends wait for
    /// each other (an advisory lock), so that two never chain to the same predecessor.
    static func append(_ event: AuditEvent, key: SymmetricKey, _ db: any SQLDatabase, dialect: SQLDialectKind) async throws {
        if dialect == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(4242005)").run() }
        let last = try await db.raw("SELECT sequence, tag FROM audit_events ORDER BY sequence DESC LIMIT 1").first()
        var event = event
        event.sequence = (try last?.int("sequence") ?? 0) + 1
        event.tag = tag(of: event, after: try last?.string("tag") ?? "", key: key)
        try await db.raw(
            """
            INSERT INTO audit_events (sequence, occurred_at, actor, key_name, address, action, record, details, tag) \
            VALUES (\(bind: event.sequence), \(bind: event.occurredAt.unixMilliseconds), \(bind: event.actor), \
            \(bind: event.keyName), \(bind: event.address), \(bind: event.action), \(bind: event.record), \
            \(bind: event.details.sortedKeys.rendered()), \(bind: event.tag))
            """
        ).run()
    }

    static func tag(of event: AuditEvent, after previous: String, key: SymmetricKey) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Data(previous.utf8))
        mac.update(data: event.content)
        return Data(mac.finalize()).map { String(format: "%02x", $0) }.joined()
    }
}

/// The dialect question the trail asks.
enum SQLDialectKind { case sqlite, postgres }

extension BerthStore {
    /// Filters of ``auditEvents(_:)``.
    public struct AuditFilter: Sendable {
        public var since: Date?
        public var actor: String?
        public var action: String?
        public var record: String?
        /// Events before this sequence (paging backwards, newest first).
        public var before: Int?
        public var limit: Int

        public init(
            since: Date? = nil, actor: String? = nil, action: String? = nil, record: String? = nil, before: Int? = nil,
            limit: Int = 100
        ) {
            self.since = since
            self.actor = actor
            self.action = action
            self.record = record
            self.before = before
            self.limit = limit
        }
    }

    /// Writes the request's audit event on its own, for an action that changed nothing else but
    /// must be recorded (a failed login).
    public func writePendingAuditEvent() async throws {
        try await database.transaction { _ in }
    }

    /// Events, newest first.
    public func auditEvents(_ filter: AuditFilter) async throws -> [AuditEvent] {
        try await database.withConnection { db in
            var query = SQLQueryString("SELECT * FROM audit_events WHERE 1 = 1")
            if let since = filter.since { query += " AND occurred_at >= \(bind: since.unixMilliseconds)" }
            if let actor = filter.actor { query += " AND actor = \(bind: actor)" }
            if let action = filter.action { query += " AND action = \(bind: action)" }
            if let record = filter.record { query += " AND record LIKE \(bind: "%" + record + "%")" }
            if let before = filter.before { query += " AND sequence < \(bind: before)" }
            query += " ORDER BY sequence DESC LIMIT \(bind: filter.limit)"
            return try await db.raw(query).all().map(Self.auditEvent)
        }
    }

    /// Checks the chain from its first event to its last: sequences from 1 without a gap, each tag
    /// following from the one before. - Returns: how many events were checked, and the first that
    /// does not match. (Events deleted from the end leave no trace in the chain itself: keep the
    /// newest sequence and tag elsewhere to see that.)
    public func verifyAudit(key: SymmetricKey) async throws -> (checked: Int, broken: AuditEvent?) {
        try await database.withConnection { db in
            var previous: String?
            var checked = 0
            var after = 0
            while true {
                let page = try await db.raw(
                    "SELECT * FROM audit_events WHERE sequence > \(bind: after) ORDER BY sequence LIMIT 1000"
                ).all().map(Self.auditEvent)
                guard let last = page.last else { return (checked, nil) }
                for event in page {
                    // The chain starts at 1 and has no gap: a deleted event breaks it where it was.
                    guard event.sequence == checked + 1,
                        AuditTrail.tag(of: event, after: previous ?? "", key: key) == event.tag
                    else { return (checked, event) }
                    previous = event.tag
                    checked += 1
                }
                after = last.sequence
            }
        }
    }

    static func auditEvent(_ row: any SQLRow) throws -> AuditEvent {
        let details = try row.string("details")
        return AuditEvent(
            sequence: try row.int("sequence"), occurredAt: try row.date("occurred_at"), actor: try row.optionalString("actor"),
            keyName: try row.optionalString("key_name"), address: try row.optionalString("address"),
            action: try row.string("action"), record: try row.string("record"),
            details: (try? JSONValue.parse(details)) ?? .string(details),
            tag: try row.string("tag"))
    }
}

extension SecretBox {
    /// The key of the audit chain: derived from the master key, for this purpose only.
    public var auditChainKey: SymmetricKey {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("berth audit chain v1".utf8), using: masterKey.key)
        return SymmetricKey(data: Data(mac))
    }
}
