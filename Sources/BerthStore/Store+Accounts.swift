import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    public func listAccounts(spaceID: String) async throws -> [Account] {
        try await database.withConnection { db in
            let rows = try await db.raw("SELECT * FROM accounts WHERE space_id = \(bind: spaceID) ORDER BY name").all()
            let links = try await Self.links(
                "SELECT ae.account_id AS owner, ae.environment_id AS environment FROM account_environments ae "
                    + "JOIN accounts a ON a.id = ae.account_id WHERE a.space_id = \(bind: spaceID)", db)
            return try rows.map { try Self.account($0, environmentIDs: links) }
        }
    }

    public func findAccount(_ reference: String, spaceID: String) async throws -> Account? {
        try await database.withConnection { db in try await Self.findAccount(reference, spaceID: spaceID, db) }
    }

    public func account(_ reference: String, spaceID: String) async throws -> Account {
        guard let account = try await findAccount(reference, spaceID: spaceID) else {
            throw BerthError.notFound("account", reference)
        }
        return account
    }

    /// An account by id in any space (for the engine).
    public func account(id: String) async throws -> Account? {
        try await database.withConnection { db in
            guard let row = try await db.raw("SELECT * FROM accounts WHERE id = \(bind: id)").first() else { return nil }
            return try Self.account(row, environmentIDs: try await Self.accountEnvironments(id, db))
        }
    }

    /// Inserts the account and its environment restrictions together.
    public func createAccount(_ account: Account) async throws -> Account {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "an account", name: account.name)) { db in
            try await Self.ensureNameIsFree("accounts", kind: "an account", name: account.name, spaceID: account.spaceID, db)
            try await db.raw(
                """
                INSERT INTO accounts (id, space_id, kind, name, slug, description, region, access_key_id, secret_key, \
                role_arn, session_duration, audience, subject_keys, custom_claims, created_at, updated_at) VALUES \
                (\(bind: account.id), \(bind: account.spaceID), \(bind: account.kind.rawValue), \(bind: account.name), \
                \(bind: account.slug), \(bind: account.description), \(bind: account.region), \(bind: account.accessKeyID), \
                \(bind: account.secretKey?.ciphertext), \(bind: account.roleARN), \(bind: account.sessionDuration.map(Int64.init)), \
                \(bind: account.audience), \(bind: jsonText(account.subjectKeys)), \(bind: jsonText(account.customClaims)), \
                \(bind: account.createdAt.unixMilliseconds), \(bind: account.updatedAt.unixMilliseconds))
                """
            ).run()
            try await Self.replaceLinks(
                table: "account_environments", ownerColumn: "account_id", owner: account.id,
                environmentIDs: account.environmentIDs,
                db)
            try await Self.bumpRevision(spaceID: account.spaceID, db)
            return account
        }
    }

    /// Writes every field of `account` (loaded and changed by the caller), names unique.
    public func updateAccount(_ account: Account) async throws -> Account {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "an account", name: account.name)) { db in
            try await Self.ensureNameIsFree(
                "accounts", kind: "an account", name: account.name, spaceID: account.spaceID, excluding: account.id, db)
            try await db.raw(
                """
                UPDATE accounts SET name = \(bind: account.name), slug = \(bind: account.slug), \
                description = \(bind: account.description), region = \(bind: account.region), \
                access_key_id = \(bind: account.accessKeyID), secret_key = \(bind: account.secretKey?.ciphertext), \
                role_arn = \(bind: account.roleARN), session_duration = \(bind: account.sessionDuration.map(Int64.init)), \
                audience = \(bind: account.audience), subject_keys = \(bind: jsonText(account.subjectKeys)), \
                custom_claims = \(bind: jsonText(account.customClaims)), updated_at = \(bind: account.updatedAt.unixMilliseconds) \
                WHERE id = \(bind: account.id)
                """
            ).run()
            try await Self.replaceLinks(
                table: "account_environments", ownerColumn: "account_id", owner: account.id,
                environmentIDs: account.environmentIDs,
                db)
            try await Self.bumpRevision(spaceID: account.spaceID, db)
            return account
        }
    }

    /// Names of the targets that use the account (a delete must wait until there are none).
    public func targetsUsing(accountID: String) async throws -> [String] {
        try await database.withConnection { db in
            try await db.raw("SELECT name FROM targets WHERE account_id = \(bind: accountID) ORDER BY name").all()
                .map { try $0.string("name") }
        }
    }

    public func deleteAccount(id: String) async throws {
        try await database.transaction { db in
            guard let row = try await db.raw("SELECT name FROM accounts WHERE id = \(bind: id)").first() else {
                throw BerthError.notFound("account", id)
            }
            let targets = try await db.raw("SELECT name FROM targets WHERE account_id = \(bind: id) ORDER BY name").all()
                .map { try $0.string("name") }
            guard targets.isEmpty else {
                throw BerthError(
                    .conflict,
                    "The account '\(try row.string("name"))' is used by the target\(targets.count == 1 ? "" : "s") "
                        + targets.map { "'\($0)'" }.joined(separator: ", ") + ". Change or delete them first.")
            }
            try await Self.bumpRevision(ofSpaceOf: "accounts", id: id, db)
            try await db.raw("DELETE FROM account_environments WHERE account_id = \(bind: id)").run()
            try await db.raw("DELETE FROM accounts WHERE id = \(bind: id)").run()
        }
    }

    static func findAccount(_ reference: String, spaceID: String, _ db: any SQLDatabase) async throws -> Account? {
        let (id, slug) = referenceClause(reference)
        guard
            let row = try await db.raw(
                "SELECT * FROM accounts WHERE space_id = \(bind: spaceID) AND (id = \(bind: id) OR slug = \(bind: slug))"
            ).first()
        else { return nil }
        return try account(row, environmentIDs: try await accountEnvironments(try row.string("id"), db))
    }

    static func accountEnvironments(_ accountID: String, _ db: any SQLDatabase) async throws -> [String: [String]] {
        try await links(
            "SELECT account_id AS owner, environment_id AS environment FROM account_environments WHERE account_id = \(bind: accountID)",
            db)
    }

    static func account(_ row: any SQLRow, environmentIDs: [String: [String]]) throws -> Account {
        let id = try row.string("id")
        guard let kind = Account.Kind(rawValue: try row.string("kind")) else {
            throw BerthError(.internalError, "The account \(id) has an unknown kind in the database.")
        }
        let account = Account(
            id: id, spaceID: try row.string("space_id"), kind: kind, name: try row.string("name"),
            description: try row.string("description"), environmentIDs: environmentIDs[id] ?? [],
            region: try row.optionalString("region"), accessKeyID: try row.optionalString("access_key_id"),
            secretKey: try row.optionalString("secret_key").map(SealedSecret.init(ciphertext:)),
            roleARN: try row.optionalString("role_arn"), sessionDuration: try row.optionalInt("session_duration"),
            audience: try row.optionalString("audience"), subjectKeys: try row.json("subject_keys", as: [String].self),
            customClaims: try row.json("custom_claims", as: [String: String].self), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
        return account
    }

    // MARK: Environment links (accounts and targets)

    /// owner id → environment ids, in environment order.
    static func links(_ query: SQLQueryString, _ db: any SQLDatabase) async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try await db.raw(query).all() {
            result[try row.string("owner"), default: []].append(try row.string("environment"))
        }
        return result
    }

    static func replaceLinks(
        table: String, ownerColumn: String, owner: String, environmentIDs: [String], _ db: any SQLDatabase
    ) async throws {
        try await db.delete(from: table).where(SQLIdentifier(ownerColumn), .equal, owner).run()
        for environmentID in Set(environmentIDs).sorted() {
            try await db.insert(into: table).columns(ownerColumn, "environment_id").values(
                SQLBind(owner), SQLBind(environmentID)
            ).run()
        }
    }
}
