import BerthDomain
import Foundation
import Testing

@Suite("OIDC key ring: which key signs, which are published, what happens next")
struct OIDCKeyRingTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86_400
    static let policy = OIDCKeyPolicy()

    static func key(_ name: String, createdAt: Date, activatesAt: Date? = nil, revokedAt: Date? = nil) -> OIDCSigningKey {
        let activation = activatesAt ?? createdAt
        return OIDCSigningKey(
            id: name, kid: name, algorithm: .rs256, publicJWK: "{}", privateKey: SealedSecret(ciphertext: "v1:x"),
            createdAt: createdAt, activatesAt: activation, expiresAt: activation.addingTimeInterval(90 * day),
            revokedAt: revokedAt)
    }

    @Test func anEmptyRingAsksForAKeyThatSignsNow() {
        let ring = OIDCKeyRing(keys: [], policy: Self.policy)
        #expect(ring.signingKey(at: Self.start) == nil)
        guard case .create(let algorithm, let activatesAt, _) = ring.nextAction(at: Self.start) else {
            Issue.record("expected a key to be created")
            return
        }
        #expect(algorithm == nil)
        #expect(activatesAt == Self.start)
    }

    @Test func theNextKeyIsCreatedAWeekBeforeExpiryAndPublishedADayBeforeItSigns() {
        let k1 = Self.key("k1", createdAt: Self.start)
        var ring = OIDCKeyRing(keys: [k1], policy: Self.policy)
        #expect(ring.nextAction(at: Self.start.addingTimeInterval(82 * Self.day)) == nil)
        let rotationTime = Self.start.addingTimeInterval(83 * Self.day)
        guard case .create(let algorithm, let activatesAt, _) = ring.nextAction(at: rotationTime) else {
            Issue.record("expected a rotation")
            return
        }
        #expect(algorithm == .rs256)
        #expect(activatesAt == rotationTime.addingTimeInterval(Self.day))

        let k2 = Self.key("k2", createdAt: rotationTime, activatesAt: activatesAt)
        ring = OIDCKeyRing(keys: [k1, k2], policy: Self.policy)
        #expect(ring.nextAction(at: rotationTime) == nil, "one pending key is enough")
        #expect(ring.state(of: k2, at: rotationTime) == .pending)
        #expect(ring.publishedKeys(at: rotationTime).map(\.id) == ["k1", "k2"])
        #expect(ring.signingKey(at: rotationTime)?.id == "k1")
        #expect(ring.signingEnds(of: k1) == activatesAt)

        let switched = activatesAt
        #expect(ring.signingKey(at: switched)?.id == "k2")
        #expect(ring.state(of: k1, at: switched) == .retired)
        let lastTokenGone = switched.addingTimeInterval(300 + 60)
        #expect(ring.publicationEnds(of: k1) == lastTokenGone)
        #expect(ring.state(of: k1, at: lastTokenGone.addingTimeInterval(-1)) == .retired)
        #expect(ring.state(of: k1, at: lastTokenGone) == .expired)
        #expect(ring.publishedKeys(at: lastTokenGone).map(\.id) == ["k2"])
        #expect(ring.keysToErase(at: switched).map(\.id) == ["k1"])
    }

    @Test func revokingTheSigningKeyActivatesAPublishedKeyOrCreatesOneAtOnce() {
        let now = Self.start.addingTimeInterval(10 * Self.day)
        let k1 = Self.key("k1", createdAt: Self.start, revokedAt: now)
        let pending = Self.key("k2", createdAt: now, activatesAt: now.addingTimeInterval(600))
        let withPending = OIDCKeyRing(keys: [k1, pending], policy: Self.policy)
        #expect(withPending.state(of: k1, at: now) == .revoked)
        #expect(withPending.publishedKeys(at: now).map(\.id) == ["k2"])
        guard case .activate(let keyID, _) = withPending.nextAction(at: now) else {
            Issue.record("expected the published key to take over")
            return
        }
        #expect(keyID == "k2")

        let alone = OIDCKeyRing(keys: [k1], policy: Self.policy)
        guard case .create(_, let activatesAt, _) = alone.nextAction(at: now) else {
            Issue.record("expected an immediate key")
            return
        }
        #expect(activatesAt == now)
    }

    @Test func aRetiredKeyNeverSignsAgainEvenWhenItsSuccessorIsRevoked() {
        let k1 = Self.key("k1", createdAt: Self.start)
        let switchAt = Self.start.addingTimeInterval(5 * Self.day)
        let revokeAt = switchAt.addingTimeInterval(Self.day)
        let k2 = Self.key(
            "k2", createdAt: Self.start.addingTimeInterval(4 * Self.day), activatesAt: switchAt, revokedAt: revokeAt)
        let ring = OIDCKeyRing(keys: [k1, k2], policy: Self.policy)
        #expect(ring.signingKey(at: revokeAt) == nil)
        #expect(ring.state(of: k1, at: revokeAt) == .expired)
        // A successor revoked before it ever signed does not retire the key it was meant to replace.
        let early = Self.key(
            "k3", createdAt: Self.start, activatesAt: switchAt, revokedAt: Self.start.addingTimeInterval(Self.day))
        #expect(OIDCKeyRing(keys: [k1, early], policy: Self.policy).signingKey(at: revokeAt)?.id == "k1")
    }
}
