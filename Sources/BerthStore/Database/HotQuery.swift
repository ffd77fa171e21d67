import SQLKit

/// The text and binds of a hot read (`Database.read(_:_:)`), written once for both dialects:
/// binds become `?` for SQLite and `$1`, `$2`… for PostgreSQL. `sqlQueryString` gives the same
/// query to SQLKit, for code that shares a part of a hot read's query.
///
/// ```swift
/// var query: HotQuery = "SELECT revision FROM space_revisions WHERE space_id = \(bind: spaceID)"
/// query.append(" LIMIT \(bind: Int64(1))")
/// ```
///
/// Only text and integers are bound (`SQLiteReader.Value`); everything else is SQL text that the
/// code writes, never data (`unsafeRaw`).
struct HotQuery: ExpressibleByStringInterpolation, Sendable {
    fileprivate enum Piece: Sendable {
        case sql(String)
        case bind(SQLiteReader.Value)
    }

    private var pieces: [Piece] = []

    /// The bound values, in order.
    var binds: [SQLiteReader.Value] {
        pieces.compactMap {
            guard case .bind(let value) = $0 else { return nil }
            return value
        }
    }

    init(stringLiteral value: String) {
        pieces = [.sql(value)]
    }

    init(stringInterpolation: StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    mutating func append(_ other: HotQuery) {
        pieces += other.pieces
    }

    /// The SQL text with the placeholders of `dialect`.
    func sql(for dialect: Database.Dialect) -> String {
        var text = ""
        var position = 0
        for piece in pieces {
            switch piece {
            case .sql(let sql):
                text += sql
            case .bind:
                position += 1
                text += dialect == .sqlite ? "?" : "$\(position)"
            }
        }
        return text
    }

    /// The same query for SQLKit (`db.raw(_:)`).
    var sqlQueryString: SQLQueryString {
        var query = SQLQueryString("")
        for piece in pieces {
            switch piece {
            case .sql(let sql): query.appendInterpolation(unsafeRaw: sql)
            case .bind(.text(let text)): query.appendInterpolation(bind: text)
            case .bind(.integer(let integer)): query.appendInterpolation(bind: integer)
            }
        }
        return query
    }

    struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var pieces: [Piece] = []

        init(literalCapacity: Int, interpolationCount: Int) {}

        mutating func appendLiteral(_ literal: String) {
            pieces.append(.sql(literal))
        }

        mutating func appendInterpolation(bind text: String) {
            pieces.append(.bind(.text(text)))
        }

        mutating func appendInterpolation(bind integer: Int64) {
            pieces.append(.bind(.integer(integer)))
        }

        /// SQL text written by the code (a table alias, a list of columns), never data.
        mutating func appendInterpolation(unsafeRaw sql: String) {
            pieces.append(.sql(sql))
        }
    }
}
