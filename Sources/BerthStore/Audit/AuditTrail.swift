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

        /// Drops the event: the write it belongs to found nothing to change (a task already
        /// finished by another node, a cancel of a finished task), and a log of changes must not
        /// record one that did not happen.
        public func discard() { state.withLock { $0.written = true } }
    }

    @TaskLocal public static var pending: Pending?

    /// Appends `event` after the last one, in `db`'s transaction. PostgreSQL: appends wait for
    /// each other (an advisory lock), so that two never chain to the same predecessor.
    static func append(_ event: AuditEvent, key: SymmetricKey, _ db: any SQLDatabase, dialect: SQLDialectKind) async throws {
        if dialect == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(4242005)").run() }
        // After a retention cut that left nothing, the chain goes on from its anchor.
        var last = try await db.raw("SELECT sequence, tag FROM audit_events ORDER BY sequence DESC LIMIT 1").first()
        if last == nil { last = try await db.raw("SELECT sequence, tag FROM audit_anchor WHERE id = 1").first() }
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

    /// The seal of a retention anchor: that the chain starts after `sequence`, whose tag is `tag`.
    static func seal(sequence: Int, tag: String, key: SymmetricKey) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: Data("anchor:\(sequence):\(tag)".utf8))
        return Data(mac.finalize()).map { String(format: "%02x", $0) }.joined()
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
            if let record = filter.record {
                // Its kind and id (or part of them), or its name (details are stored with sorted keys).
                let name = JSONValue.object([("name", .string(record))]).rendered().dropFirst().dropLast()
                query += " AND (record LIKE \(bind: "%" + record + "%") OR details LIKE \(bind: "%" + name + "%"))"
            }
            if let before = filter.before { query += " AND sequence < \(bind: before)" }
            query += " ORDER BY sequence DESC LIMIT \(bind: filter.limit)"
            return try await db.raw(query).all().map(Self.auditEvent)
        }
    }

    /// What ``verifyAudit(key:)`` found.
    public struct AuditVerification: Sendable {
        /// How many events follow from the one before.
        public var checked: Int
        /// The first event that does not.
        public var broken: AuditEvent?
        /// The chain starts after this sequence: the last event a retention cut removed (0: none).
        public var startsAfter: Int
        /// The retention anchor was changed by hand: its seal does not match.
        public var brokenAnchor: Bool

        public var isIntact: Bool { broken == nil && !brokenAnchor }
    }

    /// Checks the chain from its start (the first event, or the retention anchor after a cut) to
    /// its last event: sequences without a gap, each tag following from the one before. (Events
    /// deleted from the end leave no trace in the chain itself: keep the newest sequence and tag
    /// elsewhere to see that.)
    public func verifyAudit(key: SymmetricKey) async throws -> AuditVerification {
        try await database.withConnection { db in
            var previous = ""
            var start = 0
            if let anchor = try await db.raw("SELECT * FROM audit_anchor WHERE id = 1").first() {
                start = try anchor.int("sequence")
                previous = try anchor.string("tag")
                guard AuditTrail.seal(sequence: start, tag: previous, key: key) == (try anchor.string("seal")) else {
                    return AuditVerification(checked: 0, broken: nil, startsAfter: start, brokenAnchor: true)
                }
            }
            var checked = 0
            var after = start
            while true {
                let page = try await db.raw(
                    "SELECT * FROM audit_events WHERE sequence > \(bind: after) ORDER BY sequence LIMIT 1000"
                ).all().map(Self.auditEvent)
                guard let last = page.last else {
                    return AuditVerification(checked: checked, broken: nil, startsAfter: start, brokenAnchor: false)
                }
                for event in page {
                    // The chain has no gap: a deleted event breaks it where it was.
                    guard event.sequence == start + checked + 1,
                        AuditTrail.tag(of: event, after: previous, key: key) == event.tag
                    else { return AuditVerification(checked: checked, broken: event, startsAfter: start, brokenAnchor: false) }
                    previous = event.tag
                    checked += 1
                }
                after = last.sequence
            }
        }
    }

    /// Removes the events older than `cutoff`, in one transaction with an event that says so
    /// (actor: the server) and the new start of the chain: the sequence and tag of the last event
    /// removed, sealed with the chain's key, so that the chain stays verifiable from the cut on
    /// and a hand-made anchor does not pass. - Returns: how many events were removed.
    @discardableResult
    public func cutAudit(olderThan cutoff: Date, key: SymmetricKey, at time: Date) async throws -> Int {
        let dialect: SQLDialectKind = database.dialect == .postgres ? .postgres : .sqlite
        return try await AuditTrail.$pending.withValue(nil) {
            try await database.transaction { db in
                if dialect == .postgres { try await db.raw("SELECT pg_advisory_xact_lock(4242005)").run() }
                guard
                    let last = try await db.raw(
                        """
                        SELECT sequence, tag FROM audit_events WHERE occurred_at < \(bind: cutoff.unixMilliseconds) \
                        ORDER BY sequence DESC LIMIT 1
                        """
                    ).first()
                else { return 0 }
                let sequence = try last.int("sequence")
                let tag = try last.string("tag")
                let removed =
                    try await db.raw("SELECT COUNT(*) AS count FROM audit_events WHERE sequence <= \(bind: sequence)").first()?
                    .int("count") ?? 0
                let event = AuditEvent(
                    sequence: 0, occurredAt: time, actor: nil, keyName: nil, address: nil, action: "cutAuditLog",
                    record: "audit",
                    details: .object([
                        ("removed", .number(Double(removed))), ("through", .number(Double(sequence))),
                        ("olderThan", .string(cutoff.formatted(.iso8601))),
                    ]))
                // Appended first: the log is never empty after a cut.
                try await AuditTrail.append(event, key: key, db, dialect: dialect)
                try await db.raw("DELETE FROM audit_events WHERE sequence <= \(bind: sequence)").run()
                try await db.raw("DELETE FROM audit_anchor").run()
                try await db.raw(
                    """
                    INSERT INTO audit_anchor (id, sequence, tag, seal, cut_at) VALUES (1, \(bind: sequence), \(bind: tag), \
                    \(bind: AuditTrail.seal(sequence: sequence, tag: tag, key: key)), \(bind: time.unixMilliseconds))
                    """
                ).run()
                return removed
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
    public var auditChainKey: SymmetricKey { derivedKey("berth audit chain v1") }

    /// A key derived from the master key for one `purpose` only (a name with a version).
    public func derivedKey(_ purpose: String) -> SymmetricKey {
        SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(purpose.utf8), using: masterKey.key)))
    }
}
