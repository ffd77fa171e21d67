import AWSCore
import BerthDomain
import BerthStore
import CryptoExtras
import Foundation
import JWTKit
import Logging
import Synchronization

/// Berth as an OpenID Connect identity provider: keeps the signing keys (created, rotated with
/// overlap, revoked), publishes them, and mints the tokens that AWS exchanges for credentials.
/// No HTTP inside: the server serves `discoveryDocument()` and `jwks()`.
///
/// ```swift
/// let issuer = OIDCIssuer(store: store, secrets: secrets, configuration: try .init(publicURL: url))
/// let token = try await issuer.mint(subject: "space:default:account:prod", audience: "berth.example.com")
/// ```
public actor OIDCIssuer {
    /// Who the issuer is; its URL may be settled only once the server listens (`listening(on:)`).
    public nonisolated var configuration: OIDCIssuerConfiguration { current.withLock { $0 } }
    private nonisolated let current: Mutex<OIDCIssuerConfiguration>
    let store: BerthStore
    let secrets: SecretBox
    nonisolated let logger: Logger
    /// Opened private keys by key id; a key is opened once, not on every token.
    private var signers: [String: JWTKeyCollection] = [:]

    public init(store: BerthStore, secrets: SecretBox, configuration: OIDCIssuerConfiguration, logger: Logger) {
        self.store = store
        self.secrets = secrets
        self.current = Mutex(configuration)
        self.logger = logger
    }

    /// When the server was asked for port 0 and given no public URL, the issuer is the address it
    /// got: replaces `:0` with the bound port.
    public nonisolated func listening(on port: Int) {
        current.withLock { configuration in
            if configuration.issuer.hasSuffix(":0") {
                configuration.issuer = String(configuration.issuer.dropLast(2)) + ":\(port)"
            }
        }
    }

    var now: Date { configuration.clock.now() }

    // MARK: Keys

    /// A key with what it is doing now.
    public struct KeyStatus: Sendable {
        public var key: OIDCSigningKey
        public var state: OIDCKeyState
        /// When it stops (or stopped) signing.
        public var signsUntil: Date
        /// When it leaves (or left) the JWKS.
        public var publishedUntil: Date
    }

    public func keyStatuses() async throws -> [KeyStatus] {
        let ring = OIDCKeyRing(keys: try await store.signingKeys(), policy: configuration.policy)
        let now = self.now
        return ring.keys.reversed().map {
            KeyStatus(
                key: $0, state: ring.state(of: $0, at: now), signsUntil: ring.signingEnds(of: $0),
                publishedUntil: ring.publicationEnds(of: $0))
        }
    }

    /// Keeps a key able to sign: creates the first key, the next one ahead of expiry (published a
    /// day before it signs), activates a published key when the signing one was revoked, and erases
    /// private keys that can never sign again.
    /// - Returns: what changed, for the log.
    @discardableResult
    public func maintain() async throws -> [String] {
        let now = self.now
        let policy = configuration.policy
        let defaultAlgorithm = configuration.defaultAlgorithm
        let secrets = self.secrets
        let messages = try await store.changeSigningKeys { keys in
            var changes = SigningKeyChanges()
            var messages: [String] = []
            var ring = OIDCKeyRing(keys: keys, policy: policy)
            switch ring.nextAction(at: now) {
            case .create(let algorithm, let activatesAt, let reason):
                let key = try Self.makeKey(
                    algorithm ?? defaultAlgorithm, createdAt: now, activatesAt: activatesAt, policy: policy, secrets: secrets)
                changes.inserted.append(key)
                ring.keys.append(key)
                messages.append(
                    "Created the signing key \(key.kid) (\(key.algorithm.rawValue)) because \(reason); it signs from \(Self.format(activatesAt))."
                )
            case .activate(let keyID, let reason):
                if var key = ring.keys.first(where: { $0.id == keyID }) {
                    key.activatesAt = now
                    changes.updated.append(key)
                    ring.keys = ring.keys.map { $0.id == keyID ? key : $0 }
                    messages.append("Activated the signing key \(key.kid) early because \(reason).")
                }
            case nil:
                break
            }
            for var key in ring.keysToErase(at: now) where !changes.inserted.contains(where: { $0.id == key.id }) {
                key.privateKey = nil
                changes.updated.append(key)
                messages.append("Erased the private half of the signing key \(key.kid): it can never sign again.")
            }
            return (changes, messages)
        }
        for message in messages { logger.info("\(message)") }
        return messages
    }

    /// Creates a key that is published now and signs after `lead` (the policy's manual rotation lead
    /// when nil; zero signs at once, before relying parties can have fetched it). Refused while a
    /// newer key is already waiting to sign, so that the JWKS holds at most the signing key, one
    /// waiting key and the retiring ones.
    public func rotate(algorithm: SigningAlgorithm?, lead: Duration?) async throws -> OIDCSigningKey {
        let now = self.now
        let policy = configuration.policy
        // Checked before generating a key (RSA takes a while), and again where it counts: in the
        // transaction that inserts it, which no other node runs at the same time.
        try Self.refuseRotation(OIDCKeyRing(keys: try await store.signingKeys(), policy: policy), at: now)
        let algorithm = algorithm ?? configuration.defaultAlgorithm
        let activatesAt = now.addingTimeInterval((lead ?? policy.manualRotationLead).timeInterval)
        let key = try Self.makeKey(algorithm, createdAt: now, activatesAt: activatesAt, policy: policy, secrets: secrets)
        try await store.changeSigningKeys { keys in
            try Self.refuseRotation(OIDCKeyRing(keys: keys, policy: policy), at: now)
            return (SigningKeyChanges(inserted: [key]), ())
        }
        logger.info("Rotated the OIDC signing key", metadata: ["oidc.kid": "\(key.kid)", "oidc.activates_at": "\(activatesAt)"])
        return key
    }

    static func refuseRotation(_ ring: OIDCKeyRing, at now: Date) throws(BerthError) {
        guard let waiting = ring.waitingKey(at: now) else { return }
        throw BerthError(
            .conflict,
            "The signing key \(waiting.kid) is already waiting to sign (from \(format(waiting.activatesAt))); "
                + "rotate again once it signs, or revoke it first (berth oidc keys revoke \(waiting.kid)).")
    }

    /// Revokes a key (by id or kid): it leaves the JWKS and stops signing at once, and its private
    /// half is erased. When it was the signing key, another one takes over at once.
    /// - Returns: the revoked key and what maintenance did afterwards.
    public func revoke(_ reference: String) async throws -> (key: OIDCSigningKey, messages: [String]) {
        let now = self.now
        let revoked = try await store.changeSigningKeys { keys in
            guard var key = keys.first(where: { $0.id == reference || $0.kid == reference }) else {
                throw BerthError.notFound("signing key", reference)
            }
            guard key.revokedAt == nil else {
                throw BerthError(.conflict, "The signing key \(key.kid) was already revoked.")
            }
            key.revokedAt = now
            key.privateKey = nil
            return (SigningKeyChanges(updated: [key]), key)
        }
        signers[revoked.id] = nil
        let messages = try await maintain()
        logger.warning("Revoked the OIDC signing key", metadata: ["oidc.kid": "\(revoked.kid)"])
        return (revoked, messages)
    }

    static func makeKey(
        _ algorithm: SigningAlgorithm, createdAt: Date, activatesAt: Date, policy: OIDCKeyPolicy, secrets: SecretBox
    ) throws -> OIDCSigningKey {
        let generated = try SigningKeyGenerator.generate(algorithm)
        let id = RecordID.make("key")
        return OIDCSigningKey(
            id: id, kid: generated.kid, algorithm: algorithm, publicJWK: generated.publicJWK.rendered(),
            privateKey: try secrets.seal(generated.privateKeyPEM, for: .oidcSigningKey(keyID: id)),
            createdAt: createdAt, activatesAt: activatesAt, expiresAt: policy.expiry(activatingAt: activatesAt))
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    // MARK: Documents

    /// `/.well-known/openid-configuration`.
    public nonisolated func discoveryDocument() -> JSONValue {
        .object([
            ("issuer", .string(configuration.issuer)),
            ("jwks_uri", .string(configuration.jwksURL)),
            ("response_types_supported", .array([.string("id_token")])),
            ("subject_types_supported", .array([.string("public")])),
            ("id_token_signing_alg_values_supported", .array(SigningAlgorithm.allCases.map { .string($0.rawValue) })),
            ("scopes_supported", .array([.string("openid")])),
            (
                "claims_supported",
                .array(["iss", "sub", "aud", "iat", "nbf", "exp", "jti"].map(JSONValue.string))
            ),
        ])
    }

    /// `/.well-known/jwks`: every pending, active and retired key.
    public func jwks() async throws -> JSONValue {
        let ring = OIDCKeyRing(keys: try await store.signingKeys(), policy: configuration.policy)
        let keys = try ring.publishedKeys(at: now).reversed().map { try JSONValue.parse($0.publicJWK) }
        return .object([("keys", .array(keys))])
    }

    // MARK: Tokens

    /// Signs a token for `subject` and `audience` with the active key, valid for the policy's token
    /// lifetime.
    public func mint(subject: String, audience: String, customClaims: [(String, JSONValue)] = []) async throws -> OIDCToken {
        var ring = OIDCKeyRing(keys: try await store.signingKeys(), policy: configuration.policy)
        if ring.signingKey(at: now) == nil {
            try await maintain()
            ring = OIDCKeyRing(keys: try await store.signingKeys(), policy: configuration.policy)
        }
        guard let key = ring.signingKey(at: now) else {
            throw BerthError(.unavailable, "Berth has no OIDC signing key that can sign now.")
        }
        let signer = try await signer(for: key)
        let issuedAt = now
        let expiresAt = issuedAt.addingTimeInterval(configuration.policy.tokenLifetime.timeInterval)
        let tokenID = UUID().uuidString.lowercased()
        let claims = OIDCClaims(
            iss: configuration.issuer, sub: subject, aud: audience, iat: issuedAt, exp: expiresAt, jti: tokenID,
            custom: customClaims)
        let token = try await signer.sign(claims, kid: JWKIdentifier(string: key.kid))
        return OIDCToken(
            token: token, kid: key.kid, issuer: configuration.issuer, subject: subject, audience: audience,
            issuedAt: issuedAt, expiresAt: expiresAt, tokenID: tokenID)
    }

    private func signer(for key: OIDCSigningKey) async throws -> JWTKeyCollection {
        if let signer = signers[key.id] { return signer }
        guard let sealed = key.privateKey else {
            throw BerthError(.internalError, "The signing key \(key.kid) has no private key.")
        }
        let pem = try secrets.open(sealed, for: .oidcSigningKey(keyID: key.id))
        let collection = JWTKeyCollection()
        let kid = JWKIdentifier(string: key.kid)
        switch key.algorithm {
        case .rs256:
            await collection.add(
                rsa: try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(pemRepresentation: pem)),
                digestAlgorithm: .sha256, kid: kid)
        case .es256:
            await collection.add(ecdsa: try ES256PrivateKey(pem: pem), kid: kid)
        }
        signers[key.id] = collection
        return collection
    }
}
