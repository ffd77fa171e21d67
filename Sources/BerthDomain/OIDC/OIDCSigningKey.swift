import Foundation

/// A key Berth signs OIDC tokens with. Its public half is published in the JWKS from creation;
/// it signs from `activatesAt` until a newer key takes over, it expires or it is revoked; it stays
/// published until every token it signed has expired.
public struct OIDCSigningKey: Sendable, Hashable {
    public var id: String
    /// The JWK thumbprint (RFC 7638) of the public key: the `kid` header of every token it signs.
    public var kid: String
    public var algorithm: SigningAlgorithm
    /// The public key as a JWK (JSON text), as the JWKS publishes it.
    public var publicJWK: String
    /// The private key (PKCS#8 DER, sealed under the master key); `nil` once it can never sign again.
    public var privateKey: SealedSecret?
    public var createdAt: Date
    public var activatesAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(
        id: String = RecordID.make("key"), kid: String, algorithm: SigningAlgorithm, publicJWK: String,
        privateKey: SealedSecret?, createdAt: Date, activatesAt: Date, expiresAt: Date, revokedAt: Date? = nil
    ) {
        self.id = id
        self.kid = kid
        self.algorithm = algorithm
        self.publicJWK = publicJWK
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.activatesAt = activatesAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    public func isRevoked(at now: Date) -> Bool {
        revokedAt.map { $0 <= now } ?? false
    }
}

/// Where a key is in its life.
public enum OIDCKeyState: String, Sendable, Hashable, CaseIterable {
    /// Published, not signing yet: relying parties can fetch it before the first token arrives.
    case pending
    /// The key that signs new tokens.
    case active
    /// Published, no longer signing: tokens it signed may still be in use.
    case retired
    /// Gone from the JWKS: every token it signed has expired.
    case expired
    /// Gone from the JWKS at once, whatever it signed.
    case revoked
}
