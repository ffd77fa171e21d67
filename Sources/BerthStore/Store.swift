import BerthDomain
import Foundation
import Logging
import SQLKit

/// Berth's records, on SQLite or PostgreSQL. Every change that touches several rows runs in one
/// transaction; secrets arrive sealed (`SecretBox`) and are stored as they come.
///
/// ```swift
/// let store = try await BerthStore.open(.sqlite(path: dataDir + "/berth.sqlite"), logger: logger)
/// let space = try await store.space("default")
/// ```
public struct BerthStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Opens the database, applies migrations and makes sure the `default` space and its default
    /// worker pool exist.
    public static func open(_ configuration: DatabaseConfiguration, logger: Logger, now: Date = Date()) async throws
        -> BerthStore
    {
        var database = try Database(configuration, logger: logger)
        do {
            let applied = try await Migrations.migrate(database)
            if !applied.isEmpty, database.dialect == .sqlite {
                // A connection that read the schema before the migrations prepares against it, and
                // SQLiteNIO takes a statement's columns from that preparation — a `SELECT *` then
                // lacks the new columns once SQLite prepares it again on the new schema. Start afresh.
                await database.shutdown()
                database = try Database(configuration, logger: logger)
            }
            let store = BerthStore(database: database)
            if try await store.findSpace(Space.defaultName) == nil {
                _ = try await store.createSpace(Space(name: Space.defaultName, createdAt: now))
            }
            return store
        } catch let error as BerthError {
            await database.shutdown()
            throw error
        } catch {
            await database.shutdown()
            // Only the short description: PostgresNIO's reflection includes connection details.
            throw BerthError(.unavailable, "The database \(configuration) cannot be opened: \(String(describing: error))")
        }
    }

    public func close() async {
        await database.shutdown()
    }

    /// A number that changes whenever anything a target listing shows changes in the space
    /// (targets, their health, accounts, environments, worker pools), on any server node.
    public func revision(spaceID: String) async throws -> Int {
        // Asked before every target listing, cached or not: read like the listing's own rows.
        let query: HotQuery = "SELECT revision FROM space_revisions WHERE space_id = \(bind: spaceID)"
        return try await database.read(query) { rows in try rows.next() ? Int(try rows.int64(0)) : 0 }
    }

    static func bumpRevision(spaceID: String, _ db: any SQLDatabase) async throws {
        try await db.raw("UPDATE space_revisions SET revision = revision + 1 WHERE space_id = \(bind: spaceID)").run()
    }

    static func bumpRevision(ofSpaceOf table: String, id: String, _ db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE space_revisions SET revision = revision + 1 \
            WHERE space_id = (SELECT space_id FROM \(ident: table) WHERE id = \(bind: id))
            """
        ).run()
    }

    /// Throws a conflict ("There is already an account named …") when another record of `table` in the space has the same slug: names are
    /// unique by slug, so "Production" and "production" are the same name.
    static func ensureNameIsFree(
        _ table: String, kind: String, name: String, spaceID: String, excluding id: String? = nil, _ db: any SQLDatabase
    ) async throws {
        let existing = try await db.raw(
            """
            SELECT id FROM \(ident: table) WHERE space_id = \(bind: spaceID) AND slug = \(bind: Slug.make(name)) \
            AND id <> \(bind: id ?? "")
            """
        ).first()
        if existing != nil { throw nameTaken(kind: kind, name: name) }
    }

    /// The conflict of `ensureNameIsFree`, also given when a concurrent writer wins the race to the
    /// unique index.
    static func nameTaken(kind: String, name: String) -> BerthError {
        BerthError(.conflict, "There is already \(kind) named '\(name)' in this space.")
    }

    /// A cheap query, for `/readyz`.
    public func ping() async throws {
        try await database.withConnection { db in _ = try await db.raw("SELECT 1 AS one").first() }
    }
}

// MARK: - Row helpers

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int(_ column: String) throws -> Int { Int(try decode(column: column, as: Int64.self)) }
    func optionalInt(_ column: String) throws -> Int? { try decode(column: column, as: Int64?.self).map(Int.init) }
    func date(_ column: String) throws -> Date { Date(unixMilliseconds: try decode(column: column, as: Int64.self)) }
    func optionalDate(_ column: String) throws -> Date? {
        try decode(column: column, as: Int64?.self).map(Date.init(unixMilliseconds:))
    }
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(try string(column).utf8))
    }
}

func jsonText(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    // Arrays and dictionaries of strings always encode.
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}

extension Optional where Wrapped == Date {
    var unixMilliseconds: Int64? { self?.unixMilliseconds }
}

/// Looks a record up by id, or by name (compared by slug, so case and punctuation do not matter).
func referenceClause(_ reference: String) -> (id: String, slug: String) {
    (reference, Slug.make(reference))
}
