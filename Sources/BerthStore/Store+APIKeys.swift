import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    public func createAPIKey(_ key: APIKey) async throws -> APIKey {
        try await database.transaction { db in
            if try await db.raw("SELECT id FROM api_keys WHERE name = \(bind: key.name) AND revoked_at IS NULL").first() != nil {
                throw BerthError(.conflict, "An API key named '\(key.name)' already exists.")
            }
            try await db.raw(
                """
                INSERT INTO api_keys (id, name, prefix, hash, created_at, user_id, expires_at, limit_role_id, \
                limit_space_id) VALUES (\(bind: key.id), \(bind: key.name), \(bind: key.prefix), \(bind: key.hash), \
                \(bind: key.createdAt.unixMilliseconds), \(bind: key.userID), \(bind: key.expiresAt?.unixMilliseconds), \
                \(bind: key.limitRoleID), \(bind: key.limitSpaceID))
                """
            ).run()
            return key
        }
    }

    public func listAPIKeys() async throws -> [APIKey] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM api_keys ORDER BY created_at, name").all().map(Self.apiKey)
        }
    }

    /// The key with this hash, revoked or not.
    public func apiKey(hash: String) async throws -> APIKey? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM api_keys WHERE hash = \(bind: hash)").first().map(Self.apiKey)
        }
    }

    /// Revokes the active key with this id or name — unless that would leave no active System
    /// administrator with a way in (a key that neither expires nor is narrowed, or a password):
    /// without one nobody could manage users, teams or keys again.
    public func revokeAPIKey(_ reference: String, at time: Date) async throws -> APIKey {
        try await database.transaction { db in
            try await Self.lockAdministrators(db, database.dialect)
            guard
                let row = try await db.raw(
                    "SELECT * FROM api_keys WHERE (id = \(bind: reference) OR name = \(bind: reference)) AND revoked_at IS NULL"
                ).first()
            else { throw BerthError.notFound("active API key", reference) }
            var key = try Self.apiKey(row)
            try await db.raw("UPDATE api_keys SET revoked_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: key.id)").run()
            guard try await Self.administratorsWithAWayIn(db) > 0 else {
                throw BerthError(
                    .conflict,
                    "The API key '\(key.name)' is the last active administrator key: without it no active System administrator "
                        + "has a way in (a key that does not expire, or a password). Create another key first (berth apikey "
                        + "create), or make a new one on the server's machine with: berth server reset-admin-key --data-dir DIR")
            }
            key.revokedAt = time
            return key
        }
    }

    public func touchAPIKey(id: String, at time: Date) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE api_keys SET last_used_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: id)").run()
        }
    }

    static func apiKey(_ row: any SQLRow) throws -> APIKey {
        var key = APIKey(
            id: try row.string("id"), name: try row.string("name"), prefix: try row.string("prefix"),
            hash: try row.string("hash"), createdAt: try row.date("created_at"), lastUsedAt: try row.optionalDate("last_used_at"),
            revokedAt: try row.optionalDate("revoked_at"), userID: try row.optionalString("user_id") ?? User.administratorID)
        key.expiresAt = try row.optionalDate("expires_at")
        key.limitRoleID = try row.optionalString("limit_role_id")
        key.limitSpaceID = try row.optionalString("limit_space_id")
        return key
    }
}
