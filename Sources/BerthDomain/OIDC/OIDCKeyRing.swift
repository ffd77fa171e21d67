import AWSRules
import Foundation

/// The rules over all signing keys at a moment: which one signs, which are published, what each
/// key's state is, and what must happen next (a key to create or to activate). Pure: the issuer
/// loads the keys, asks, and stores the answer.
public struct OIDCKeyRing: Sendable {
    public var keys: [OIDCSigningKey]
    public var policy: OIDCKeyPolicy

    public init(keys: [OIDCSigningKey], policy: OIDCKeyPolicy) {
        self.keys = keys.sorted { ($0.activatesAt, $0.createdAt) < ($1.activatesAt, $1.createdAt) }
        self.policy = policy
    }

    /// What the issuer must do next.
    public enum Action: Sendable, Hashable {
        /// Create a key that starts signing at `activatesAt` (now when nothing can sign).
        case create(algorithm: SigningAlgorithm?, activatesAt: Date, reason: String)
        /// A published key must sign from now on: the one that signed was revoked.
        case activate(keyID: String, reason: String)
    }

    /// When `key` stops signing: its expiry, its revocation, or the activation of a newer key that
    /// was not revoked before it activated — whichever comes first. A key never signs again after.
    public func signingEnds(of key: OIDCSigningKey) -> Date {
        var end = key.expiresAt
        if let revokedAt = key.revokedAt { end = min(end, revokedAt) }
        for other in keys where other.id != key.id && supersedes(other, key) {
            if other.revokedAt.map({ $0 > other.activatesAt }) ?? true {
                end = min(end, other.activatesAt)
            }
        }
        return max(end, key.activatesAt)
    }

    private func supersedes(_ newer: OIDCSigningKey, _ older: OIDCSigningKey) -> Bool {
        (newer.activatesAt, newer.createdAt) > (older.activatesAt, older.createdAt)
    }

    /// When `key` leaves the JWKS: at once when revoked, otherwise when the last token it could have
    /// signed has expired (plus clock skew).
    public func publicationEnds(of key: OIDCSigningKey) -> Date {
        let afterLastToken = signingEnds(of: key).addingTimeInterval(
            policy.tokenLifetime.timeInterval + policy.clockSkew.timeInterval)
        return key.revokedAt.map { min($0, afterLastToken) } ?? afterLastToken
    }

    public func state(of key: OIDCSigningKey, at now: Date) -> OIDCKeyState {
        if key.isRevoked(at: now) { return .revoked }
        if now < key.activatesAt { return .pending }
        if now < signingEnds(of: key) { return .active }
        if now < publicationEnds(of: key) { return .retired }
        return .expired
    }

    /// The key that signs tokens at `now`, if any.
    public func signingKey(at now: Date) -> OIDCSigningKey? {
        keys.last { state(of: $0, at: now) == .active }
    }

    /// The key published and waiting to sign at `now`, if any (the next one to take over). While
    /// there is one, no other key is made: the JWKS holds the signing key, at most one waiting key
    /// and the retiring ones.
    public func waitingKey(at now: Date) -> OIDCSigningKey? {
        keys.first { state(of: $0, at: now) == .pending }
    }

    /// The keys of the JWKS at `now`: pending, active and retired ones.
    public func publishedKeys(at now: Date) -> [OIDCSigningKey] {
        keys.filter { [.pending, .active, .retired].contains(state(of: $0, at: now)) }
    }

    /// Keys whose private half is no longer needed: they can never sign again.
    public func keysToErase(at now: Date) -> [OIDCSigningKey] {
        keys.filter { $0.privateKey != nil && [.retired, .expired, .revoked].contains(state(of: $0, at: now)) }
    }

    /// What keeps a signing key available: nothing, a key to create, or a pending key to activate.
    public func nextAction(at now: Date) -> Action? {
        let pending = keys.filter { state(of: $0, at: now) == .pending }
        guard let current = signingKey(at: now) else {
            if let next = pending.first {
                return .activate(keyID: next.id, reason: "no key can sign now; the next published key takes over early")
            }
            let reason = keys.isEmpty ? "there is no signing key yet" : "no key can sign now"
            return .create(algorithm: keys.last?.algorithm, activatesAt: now, reason: reason)
        }
        let end = signingEnds(of: current)
        guard pending.isEmpty, now >= end.addingTimeInterval(-policy.rotateBefore.timeInterval) else { return nil }
        let activatesAt = min(now.addingTimeInterval(policy.publishLead.timeInterval), end)
        return .create(
            algorithm: current.algorithm, activatesAt: activatesAt, reason: "the signing key \(current.kid) expires soon")
    }
}
