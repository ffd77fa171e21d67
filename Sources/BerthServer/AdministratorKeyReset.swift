import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import Logging

/// `berth server reset-admin-key`: a new administrator API key, made on the server's machine when
/// every key is lost. Whoever can read the data directory (its master key) already holds every
/// secret of the server, so that is the proof asked for; the database must exist already.
public enum AdministratorKeyReset {
    /// Opens the data directory's database (or `database`), stores a new administrator key and
    /// returns it with its record. The other keys stay as they are.
    public static func run(
        dataDirectory: URL, database: DatabaseConfiguration?, environment: [String: String], logger: Logger,
        now: Date = Date()
    ) async throws -> (key: String, record: APIKey) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw BerthError(
                .badRequest,
                "The data directory \(dataDirectory.path) does not exist; give the --data-dir the server runs with.")
        }
        let keyFile = dataDirectory.appendingPathComponent(MasterKey.fileName)
        guard environment[MasterKey.environmentVariable] != nil || FileManager.default.fileExists(atPath: keyFile.path) else {
            throw BerthError(
                .badRequest,
                "\(dataDirectory.path) is not a Berth data directory: it has no \(MasterKey.fileName) (and \(MasterKey.environmentVariable) is not set)."
            )
        }
        let secrets = SecretBox(masterKey: try MasterKey.loadOrCreate(dataDirectory: dataDirectory, environment: environment).key)
        let configuration = database ?? .sqlite(path: dataDirectory.appendingPathComponent("berth.sqlite").path)
        if case .sqlite(let path) = configuration, !FileManager.default.fileExists(atPath: path) {
            throw BerthError(
                .badRequest,
                "The database \(path) does not exist; give --database when the server uses another one (PostgreSQL).")
        }
        let store = try await BerthStore.open(configuration, logger: logger)
        do {
            let (key, record) = APIKeyFactory.make(name: "administrator (reset \(now.formatted(.iso8601)))", at: now)
            // Audited like any change; its actor is the server's machine, not a user.
            let event = AuditEvent(
                sequence: 0, occurredAt: now, actor: nil, keyName: nil, address: nil, action: "resetAdminKey",
                record: record.auditReference,
                details: .object([
                    ("name", .string(record.name)), ("by", .string("berth server reset-admin-key, on the server's machine")),
                ]))
            let stored = try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: event, key: secrets.auditChainKey)) {
                try await store.createAPIKey(record)
            }
            await store.close()
            return (key, stored)
        } catch {
            await store.close()
            throw error
        }
    }
}
