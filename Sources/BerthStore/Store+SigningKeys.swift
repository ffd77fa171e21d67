import BerthDomain
import Foundation
import SQLKit

/// What one change to the signing keys writes.
public struct SigningKeyChanges: Sendable {
    public var inserted: [OIDCSigningKey] = []
    public var updated: [OIDCSigningKey] = []

    public init(inserted: [OIDCSigningKey] = [], updated: [OIDCSigningKey] = []) {
        self.inserted = inserted
        self.updated = updated
    }

    public var isEmpty: Bool { inserted.isEmpty && updated.isEmpty }
}

extension BerthStore {
    /// Every signing key, oldest activation first.
    public func signingKeys() async throws -> [OIDCSigningKey] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM oidc_signing_keys ORDER BY activates_at, created_at").all().map(Self.signingKey)
        }
    }

    /// Reads the keys and writes what `decide` makes of them in one transaction that no other node
    /// runs at the same time (PostgreSQL: an advisory lock), so two nodes never both rotate.
    /// - Returns: what `decide` returned beside the changes.
    public func changeSigningKeys<Outcome: Sendable>(
        _ decide: @escaping @Sendable ([OIDCSigningKey]) throws -> (SigningKeyChanges, Outcome)
    ) async throws -> Outcome {
        let dialect = database.dialect
        return try await database.transaction { db in
            if dialect == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(4242002)").run()
            }
            let keys = try await db.raw("SELECT * FROM oidc_signing_keys").all().map(Self.signingKey)
            let (changes, outcome) = try decide(keys)
            for key in changes.inserted {
                try await db.raw(
                    """
                    INSERT INTO oidc_signing_keys \
                    (id, kid, algorithm, public_jwk, private_key, created_at, activates_at, expires_at, revoked_at) VALUES \
                    (\(bind: key.id), \(bind: key.kid), \(bind: key.algorithm.rawValue), \(bind: key.publicJWK), \
                    \(bind: key.privateKey?.ciphertext), \(bind: key.createdAt.unixMilliseconds), \
                    \(bind: key.activatesAt.unixMilliseconds), \(bind: key.expiresAt.unixMilliseconds), \
                    \(bind: key.revokedAt?.unixMilliseconds))
                    """
                ).run()
            }
            for key in changes.updated {
                try await db.raw(
                    """
                    UPDATE oidc_signing_keys SET private_key = \(bind: key.privateKey?.ciphertext), \
                    activates_at = \(bind: key.activatesAt.unixMilliseconds), \
                    expires_at = \(bind: key.expiresAt.unixMilliseconds), \
                    revoked_at = \(bind: key.revokedAt?.unixMilliseconds) WHERE id = \(bind: key.id)
                    """
                ).run()
            }
            return outcome
        }
    }

    static func signingKey(_ row: any SQLRow) throws -> OIDCSigningKey {
        let algorithmName = try row.string("algorithm")
        guard let algorithm = SigningAlgorithm(rawValue: algorithmName) else {
            throw BerthError(.internalError, "The stored signing key algorithm '\(algorithmName)' is unknown.")
        }
        return OIDCSigningKey(
            id: try row.string("id"), kid: try row.string("kid"), algorithm: algorithm,
            publicJWK: try row.string("public_jwk"),
            privateKey: try row.optionalString("private_key").map(SealedSecret.init(ciphertext:)),
            createdAt: try row.date("created_at"), activatesAt: try row.date("activates_at"),
            expiresAt: try row.date("expires_at"), revokedAt: try row.optionalDate("revoked_at"))
    }
}
