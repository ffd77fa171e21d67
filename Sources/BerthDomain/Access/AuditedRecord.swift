import Foundation

/// A field of a record as the audit log shows it: its value, or for a secret only whether it is
/// set and whether it changed.
public enum AuditField: Sendable, Hashable {
    case value(JSONValue)
    /// A secret, by a fingerprint that is compared and never written (nil: not set).
    case secret(Int?)

    public static func text(_ value: String?) -> AuditField { .value(value.map(JSONValue.string) ?? .null) }
    public static func number(_ value: Int?) -> AuditField { .value(value.map { .number(Double($0)) } ?? .null) }
    public static func flag(_ value: Bool) -> AuditField { .value(.bool(value)) }
    public static func list(_ values: [String]) -> AuditField { .value(.array(values.map(JSONValue.string))) }
    public static func set(_ values: Set<String>) -> AuditField { list(values.sorted()) }
    public static func date(_ value: Date?) -> AuditField {
        text(value.map { $0.formatted(.iso8601) })
    }
    public static func sealed(_ secret: SealedSecret?) -> AuditField { .secret(secret?.ciphertext.hashValue) }

    var isSecret: Bool {
        if case .secret = self { true } else { false }
    }

    var isSetSecret: Bool {
        if case .secret(let fingerprint) = self { fingerprint != nil } else { false }
    }
}

/// A record the audit log can name and compare: what an event says was created, changed or
/// deleted.
public protocol AuditedRecord: Sendable {
    /// The record's kind and id, as events name it: `environments/env-…`.
    var auditReference: String { get }
    /// What people call it.
    var auditName: String { get }
    /// Its fields, in a fixed order.
    var auditFields: [(String, AuditField)] { get }
}

public enum AuditChanges {
    /// The fields that differ between `before` and `after` (nil: the record did not exist), as
    /// `{"field": {"before": …, "after": …}}` in the record's field order. A secret is never
    /// written: it shows as "(set)", "(changed)" or "(removed)".
    public static func between(_ before: [(String, AuditField)]?, _ after: [(String, AuditField)]?) -> JSONValue {
        let old = Dictionary((before ?? []).map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary((after ?? []).map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        var names = (after ?? before ?? []).map(\.0)
        for (name, _) in before ?? [] where !names.contains(name) { names.append(name) }
        var changes: [(String, JSONValue)] = []
        for name in names {
            let was = old[name]
            let now = new[name]
            guard was != now else { continue }
            if was?.isSecret == true || now?.isSecret == true {
                // Not set before nor after: nothing to say.
                guard was?.isSetSecret == true || now?.isSetSecret == true else { continue }
                changes.append((name, .string(secretChange(was: was, now: now))))
            } else if value(was) != value(now) {
                changes.append((name, .object([("before", value(was)), ("after", value(now))])))
            }
        }
        return .object(changes)
    }

    static func secretChange(was: AuditField?, now: AuditField?) -> String {
        switch (was?.isSetSecret == true, now?.isSetSecret == true) {
        case (false, true): "(set)"
        case (true, false): "(removed)"
        default: "(changed)"
        }
    }

    static func value(_ field: AuditField?) -> JSONValue {
        switch field {
        case .value(let value)?: value
        case .secret?, nil: .null
        }
    }
}
