import BerthDomain
import Logging
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization

/// One result row, read column by column straight from the driver's values: `SQLiteData` for
/// SQLite, `PostgresCell` (PostgresNIO's own decoding) for PostgreSQL.
///
/// `SQLRow.decode(column:as:)` goes through Codable for every value (a dynamic cast, and for an
/// optional a decoder object of its own); reading a page of a hundred targets that way was a
/// tenth of a busy server's time. Hot paths that read many rows use `ColumnQueries.all(_:)` and
/// this type; everything else keeps the simpler `SQLRow`.
///
/// ```swift
/// let rows = try await store.database.withColumnQueries { try await $0.all("SELECT id, name FROM spaces") }
/// let names = try rows.map { try $0.string("name") }
/// ```
struct ColumnRow: Sendable {
    enum Values: Sendable {
        case sqlite(SQLiteRow)
        case postgres(PostgresRandomAccessRow)
    }

    let values: Values

    /// A text column that is never NULL.
    func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else { throw Self.unexpected(column, "NULL", expected: "text") }
        return value
    }

    /// A text column, nil for NULL.
    func optionalString(_ column: String) throws -> String? {
        switch values {
        case .sqlite(let row):
            switch try Self.value(row, column) {
            case .text(let text): return text
            case .null: return nil
            case let other: throw Self.unexpected(column, "\(other)", expected: "text")
            }
        case .postgres(let row):
            guard row.contains(column) else { throw Self.missing(column) }
            return try row[column].decode(String?.self)
        }
    }

    /// An integer column that is never NULL.
    func int64(_ column: String) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw Self.unexpected(column, "NULL", expected: "an integer") }
        return value
    }

    /// An integer column, nil for NULL.
    func optionalInt64(_ column: String) throws -> Int64? {
        switch values {
        case .sqlite(let row):
            switch try Self.value(row, column) {
            case .integer(let integer): return Int64(integer)
            case .null: return nil
            case let other: throw Self.unexpected(column, "\(other)", expected: "an integer")
            }
        case .postgres(let row):
            guard row.contains(column) else { throw Self.missing(column) }
            return try row[column].decode(Int64?.self)
        }
    }

    private static func value(_ row: SQLiteRow, _ column: String) throws -> SQLiteData {
        guard let value = row.column(column) else { throw missing(column) }
        return value
    }

    private static func missing(_ column: String) -> BerthError {
        BerthError(.internalError, "The query's result has no column '\(column)'.")
    }

    private static func unexpected(_ column: String, _ value: String, expected: String) -> BerthError {
        BerthError(.internalError, "The column '\(column)' holds \(value.prefix(100)) where \(expected) was expected.")
    }
}

/// Queries on one pooled connection whose rows are read as `ColumnRow`s.
struct ColumnQueries: Sendable {
    enum Connection: Sendable {
        case sqlite(SQLiteConnection)
        case postgres(PostgresConnection, Logger)
    }

    let connection: Connection

    /// Every row of `query`. Its binds may be text and integers, which is all that the queries of
    /// this path need.
    func all(_ query: SQLQueryString) async throws -> [ColumnRow] {
        switch connection {
        case .sqlite(let connection):
            var serializer = SQLSerializer(database: connection.sql())
            query.serialize(to: &serializer)
            let encoder = SQLiteDataEncoder()
            let binds = try serializer.binds.map { try encoder.encode($0) }
            // SQLiteConnection's own callback form reads every row on the thread pool; the
            // collecting forms of SQLiteDatabase send each row to the event loop as a task of its own.
            let rows = RowCollector()
            try await connection.query(serializer.sql, binds) { row in rows.append(ColumnRow(values: .sqlite(row))) }
            return rows.collected
        case .postgres(let connection, let logger):
            var serializer = SQLSerializer(database: connection.sql())
            query.serialize(to: &serializer)
            var bindings = PostgresBindings(capacity: serializer.binds.count)
            for bind in serializer.binds {
                switch bind {
                case let text as String: bindings.append(text)
                case let integer as Int64: bindings.append(integer)
                case let integer as Int: bindings.append(Int64(integer))
                default:
                    throw BerthError(.internalError, "A column query cannot bind a value of type \(type(of: bind)).")
                }
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: serializer.sql, binds: bindings), logger: logger)
            var result: [ColumnRow] = []
            for try await row in rows { result.append(ColumnRow(values: .postgres(row.makeRandomAccess()))) }
            return result
        }
    }
}

/// The rows of one SQLite query, appended to by the thread pool's thread that steps through them.
private final class RowCollector: Sendable {
    private let rows = Mutex<[ColumnRow]>([])

    func append(_ row: ColumnRow) {
        rows.withLock { $0.append(row) }
    }

    var collected: [ColumnRow] { rows.withLock { $0 } }
}
