import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    static let masterKeyCheckText = "Berth master key check"
    static let masterKeyCheckBinding = SecretBox.Binding(table: "settings", recordID: "master-key-check", field: "value")

    /// Makes sure `secrets` opens the secrets of this database: the first node to start seals a
    /// known text under its master key; every later start (of any node) must open it. A node with
    /// another key would seal new secrets that no other node can read, and read none of theirs. On a
    /// database from before the check value, the first node must first open a secret already there
    /// (an OIDC signing key), so that a node with the wrong key cannot make its key the check's.
    /// - Throws: when the master key is not the one the database was set up with.
    public func verifyMasterKey(_ secrets: SecretBox) async throws {
        let fresh = try secrets.seal(Self.masterKeyCheckText, for: Self.masterKeyCheckBinding)
        let opens = try await database.transaction { db -> Bool in
            if let stored = try await db.raw("SELECT value FROM settings WHERE name = 'master-key-check'").first() {
                return Self.opensCheck(try stored.string("value"), with: secrets)
            }
            if let key = try await db.raw(
                "SELECT id, private_key FROM oidc_signing_keys WHERE private_key IS NOT NULL ORDER BY created_at LIMIT 1"
            ).first() {
                let sealed = SealedSecret(ciphertext: try key.string("private_key"))
                do {
                    _ = try secrets.open(sealed, for: .oidcSigningKey(keyID: try key.string("id")))
                } catch {
                    return false
                }
            }
            try await db.raw(
                """
                INSERT INTO settings (name, value) VALUES ('master-key-check', \(bind: fresh.ciphertext)) \
                ON CONFLICT (name) DO NOTHING
                """
            ).run()
            // Another node may have written its check value first: the one stored decides.
            let stored = try await db.raw("SELECT value FROM settings WHERE name = 'master-key-check'").first()
            return try stored.map { Self.opensCheck(try $0.string("value"), with: secrets) } ?? false
        }
        guard opens else {
            throw BerthError(
                .validationFailed,
                "This node's master key cannot open the secrets in the database: it was set up with another key. Every node of a cluster needs the same master key — copy the first node's master.key into this node's data directory (mode 0600), or give every node the same \(MasterKey.environmentVariable)."
            )
        }
    }

    /// Whether `sealed` is the check text sealed under `secrets`' key; a value that cannot be
    /// opened (another key, or damaged) is not.
    static func opensCheck(_ sealed: String, with secrets: SecretBox) -> Bool {
        do {
            return try secrets.open(SealedSecret(ciphertext: sealed), for: masterKeyCheckBinding) == masterKeyCheckText
        } catch {
            return false
        }
    }
}
