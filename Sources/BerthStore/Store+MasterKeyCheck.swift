import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    static let masterKeyCheckText = "Berth master key check"
    static let masterKeyCheckBinding = SecretBox.Binding(table: "settings", recordID: "master-key-check", field: "value")

    /// Makes sure `secrets` opens the secrets of this database: the first node to start seals a
    /// known text under its master key; every later start (of any node) must open it. A node with
    /// another key would seal new secrets that no other node can read, and read none of theirs.
    /// - Throws: when the master key is not the one the database was set up with.
    public func verifyMasterKey(_ secrets: SecretBox) async throws {
        let fresh = try secrets.seal(Self.masterKeyCheckText, for: Self.masterKeyCheckBinding)
        let stored = try await database.transaction { db in
            try await db.raw(
                """
                INSERT INTO settings (name, value) VALUES ('master-key-check', \(bind: fresh.ciphertext)) \
                ON CONFLICT (name) DO NOTHING
                """
            ).run()
            return try await db.raw("SELECT value FROM settings WHERE name = 'master-key-check'").first()?.string("value")
        }
        let opened = stored.flatMap { try? secrets.open(SealedSecret(ciphertext: $0), for: Self.masterKeyCheckBinding) }
        guard opened == Self.masterKeyCheckText else {
            throw BerthError(
                .validationFailed,
                "This node's master key cannot open the secrets in the database: it was set up with another key. Every node of a cluster needs the same master key — copy the first node's master.key into this node's data directory (mode 0600), or give every node the same \(MasterKey.environmentVariable)."
            )
        }
    }
}
