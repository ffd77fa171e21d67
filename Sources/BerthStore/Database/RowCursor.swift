import BerthDomain
import PostgresKit

/// The rows of a hot read (`Database.read(_:_:)`), one at a time, read column by position.
///
/// `SQLRow.decode(column:as:)` goes through Codable for every value, and finds the column by
/// name; reading a page of a hundred targets that way was a tenth of a busy server's time. Hot
/// paths number their columns instead (see `TargetListingColumn`); everything else keeps the
/// simpler `SQLRow`.
///
/// ```swift
/// let names = try await database.read("SELECT name FROM spaces") { rows in
///     var names: [String] = []
///     while try rows.next() { names.append(try rows.string(0)) }
///     return names
/// }
/// ```
protocol RowCursor {
    /// Moves to the next row; false when there is none.
    mutating func next() throws -> Bool
    /// A text column of the current row, nil for NULL.
    func optionalString(_ column: Int) throws -> String?
    /// An integer column of the current row, nil for NULL.
    func optionalInt64(_ column: Int) throws -> Int64?
    /// The name of a column, for error messages.
    func columnName(_ column: Int) -> String
}

extension RowCursor {
    /// A text column that is never NULL.
    func string(_ column: Int) throws -> String {
        guard let value = try optionalString(column) else { throw nullValue(column, expected: "text") }
        return value
    }

    /// An integer column that is never NULL.
    func int64(_ column: Int) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw nullValue(column, expected: "an integer") }
        return value
    }

    private func nullValue(_ column: Int, expected: String) -> BerthError {
        BerthError(.internalError, "The column '\(columnName(column))' holds NULL where \(expected) was expected.")
    }
}

/// The rows of a PostgreSQL query, received in full, read with PostgresNIO's own decoding.
struct PostgresRowCursor: RowCursor {
    private let rows: [PostgresRandomAccessRow]
    private var index = -1

    init(_ rows: [PostgresRandomAccessRow]) { self.rows = rows }

    mutating func next() throws -> Bool {
        guard index + 1 < rows.count else { return false }
        index += 1
        return true
    }

    func optionalString(_ column: Int) throws -> String? {
        try decode(column, as: String?.self, expected: "text")
    }

    func optionalInt64(_ column: Int) throws -> Int64? {
        try decode(column, as: Int64?.self, expected: "an integer")
    }

    private func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type, expected: String) throws -> T {
        guard index >= 0, index < rows.count else { throw BerthError(.internalError, "A hot read read past its rows.") }
        guard column >= 0, column < rows[index].count else {
            throw BerthError(.internalError, "The query's result has no column #\(column) (it has \(rows[index].count)).")
        }
        let cell = rows[index][column]
        do {
            return try cell.decode(T.self)
        } catch {
            throw BerthError(
                .internalError, "The column '\(cell.columnName)' holds \(cell.dataType) where \(expected) was expected.")
        }
    }

    func columnName(_ column: Int) -> String {
        index >= 0 && index < rows.count && column < rows[index].count ? rows[index][column].columnName : "#\(column)"
    }
}
