import BerthDomain
import NIOCore
import NIOPosix
import Synchronization
import VaporCSQLite

/// Reads an SQLite database through SQLite's C API, for the hot reads of `Database.read(_:_:)`:
/// each connection keeps its prepared statements, and a query's rows are read in place, column by
/// position, while SQLite steps through them.
///
/// SQLiteNIO prepares every query anew and copies every row into an array of enum values before
/// the caller sees it; for a page of a hundred targets that was a quarter of a busy server's time.
/// The connections are read-only (`SQLITE_OPEN_READONLY`); on a WAL database a reader never waits
/// for the writer, and sees what was committed when its statement started.
///
/// It uses the copy of SQLite inside SQLiteNIO (`VaporCSQLite`, whose functions are prefixed
/// `sqlite_nio_`), on purpose: two copies of SQLite in one process would each keep their own
/// POSIX locks on the same file, and closing a file in one copy drops the locks of the other.
/// Work runs on NIO's thread pool, as SQLiteNIO's does, never on an event loop.
final class SQLiteReader: Sendable {
    /// A read's binds: all that the hot reads need.
    enum Value: Sendable {
        case text(String)
        case integer(Int64)
    }

    private let path: String
    private let busyTimeoutMilliseconds: Int32
    private let threadPool: NIOThreadPool
    private let idle = Mutex<Idle>(Idle())
    private let counts = Counts()

    private struct Idle {
        var connections: [Connection] = []
        var isClosed = false
    }

    /// Connections kept open between reads: as many as the thread pool runs reads at once.
    private static let idleLimit = max(NIOSingletons.blockingPoolThreadCountSuggestion, 2)

    init(path: String, busyTimeoutMilliseconds: Int32, threadPool: NIOThreadPool = .singleton) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.threadPool = threadPool
    }

    /// Runs `sql` with `binds` (`?` placeholders, in order) and lets `body` read its rows, on a
    /// thread of the pool.
    func read<T: Sendable>(
        _ sql: String, _ binds: [Value], _ body: @escaping @Sendable (inout SQLiteCursor) throws -> T
    ) async throws -> T {
        try await threadPool.runIfActive {
            let connection = try self.checkOut()
            defer { self.checkIn(connection) }
            return try connection.read(sql, binds, self.counts, body)
        }
    }

    /// How many statements were prepared, and how many of their runs SQLite had to prepare again
    /// (a kept statement is only worth keeping while this stays low).
    var statistics: (prepared: Int, reprepared: Int) {
        (counts.prepared.load(ordering: .relaxed), counts.reprepared.load(ordering: .relaxed))
    }

    /// Closes the idle connections, and each read's connection when the read ends; later reads fail
    /// (at shutdown).
    func close() {
        let connections = idle.withLock { idle in
            defer {
                idle.connections.removeAll()
                idle.isClosed = true
            }
            return idle.connections
        }
        for connection in connections { connection.close() }
    }

    private func checkOut() throws -> Connection {
        let (connection, isClosed) = idle.withLock { ($0.connections.popLast(), $0.isClosed) }
        guard !isClosed else { throw SQLiteReadError(SQLITE_MISUSE, nil, doing: "read: the database has been shut down") }
        if let connection { return connection }
        return try Connection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
    }

    private func checkIn(_ connection: Connection) {
        let kept = idle.withLock { idle in
            guard !idle.isClosed, idle.connections.count < Self.idleLimit else { return false }
            idle.connections.append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// One read-only connection and its prepared statements. Used by one thread at a time: it is
    /// either in the idle list or checked out by exactly one read.
    private final class Connection: @unchecked Sendable {
        private var handle: OpaquePointer?
        private var statements: [String: OpaquePointer] = [:]
        /// Queries are built from a few fixed shapes; more than this many means something builds
        /// them from data, and the cache starts over rather than grow.
        private static let statementLimit = 64

        init(path: String, busyTimeoutMilliseconds: Int32) throws {
            let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
            let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
            guard status == SQLITE_OK, let handle else {
                let error = SQLiteReadError(status, handle, doing: "open \(path) for reading")
                sqlite_nio_sqlite3_close_v2(handle)
                throw error
            }
            // As the pool's connections: the same busy timeout, 1 MiB of page cache (the OS caches
            // the file anyway).
            var setting = sqlite_nio_sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
            if setting == SQLITE_OK { setting = sqlite_nio_sqlite3_exec(handle, "PRAGMA cache_size = -1024", nil, nil, nil) }
            guard setting == SQLITE_OK else {
                let error = SQLiteReadError(setting, handle, doing: "set up a connection to \(path)")
                sqlite_nio_sqlite3_close_v2(handle)
                throw error
            }
        }

        deinit { close() }

        func read<T>(
            _ sql: String, _ binds: [SQLiteReader.Value], _ counts: Counts, _ body: (inout SQLiteCursor) throws -> T
        ) throws -> T {
            guard let handle else { throw SQLiteReadError(SQLITE_MISUSE, nil, doing: "read from a closed connection") }
            let statement = try prepared(sql, handle, counts)
            // Bindings are kept from run to run (see below): every parameter must be bound anew.
            let parameters = Int(sqlite_nio_sqlite3_bind_parameter_count(statement))
            guard parameters == binds.count else {
                throw BerthError(
                    .internalError, "A hot read binds \(binds.count) values where its query has \(parameters) parameters.")
            }
            // Reset whatever happens: a statement left mid-way would hold its read snapshot. Every
            // parameter is bound anew below, so the bindings are not cleared (clearing them expires
            // a statement whose plan looked at a parameter, which SQLite then prepares again).
            defer {
                sqlite_nio_sqlite3_reset(statement)
                let reprepared = sqlite_nio_sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 1)
                if reprepared > 0 { counts.reprepared.add(Int(reprepared), ordering: .relaxed) }
            }
            for (index, value) in binds.enumerated() {
                let position = Int32(index + 1)
                let status: Int32
                switch value {
                case .integer(let integer):
                    status = sqlite_nio_sqlite3_bind_int64(statement, position, integer)
                case .text(let text):
                    status =
                        text.utf8.withContiguousStorageIfAvailable {
                            sqlite_nio_sqlite3_bind_text64(
                                statement, position, UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                UInt64($0.count), sqliteTransient, UInt8(SQLITE_UTF8))
                        }
                        ?? sqlite_nio_sqlite3_bind_text64(
                            statement, position, text, UInt64(text.utf8.count), sqliteTransient, UInt8(SQLITE_UTF8))
                }
                guard status == SQLITE_OK else { throw SQLiteReadError(status, handle, doing: "bind parameter \(position)") }
            }
            var cursor = SQLiteCursor(statement: statement, handle: handle)
            return try body(&cursor)
        }

        private func prepared(_ sql: String, _ handle: OpaquePointer, _ counts: Counts) throws -> OpaquePointer {
            if let statement = statements[sql] { return statement }
            if statements.count >= Self.statementLimit { finalizeAll() }
            var statement: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v3(
                handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard status == SQLITE_OK, let statement else {
                throw SQLiteReadError(status, handle, doing: "prepare a query")
            }
            statements[sql] = statement
            counts.prepared.add(1, ordering: .relaxed)
            return statement
        }

        private func finalizeAll() {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll()
        }

        func close() {
            guard let handle else { return }
            finalizeAll()
            sqlite_nio_sqlite3_close_v2(handle)
            self.handle = nil
        }
    }
}

extension SQLiteReader {
    /// The reader's statistics, counted by every connection.
    final class Counts: Sendable {
        let prepared = Atomic<Int>(0)
        let reprepared = Atomic<Int>(0)
    }
}

/// SQLite's "make your own copy" destructor for bound text (`SQLITE_TRANSIENT`, a macro Swift
/// cannot import).
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The rows of one SQLite statement as it steps: valid only inside the read's body.
struct SQLiteCursor: RowCursor {
    fileprivate let statement: OpaquePointer
    fileprivate let handle: OpaquePointer

    mutating func next() throws -> Bool {
        switch sqlite_nio_sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let status: throw SQLiteReadError(status, handle, doing: "read a row")
        }
    }

    func optionalString(_ column: Int) throws -> String? {
        let index = try checked(column)
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_NULL:
            return nil
        case SQLITE_TEXT:
            // column_text before column_bytes, as SQLite asks: the length is of the UTF-8 form.
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else {
                throw SQLiteReadError(
                    sqlite_nio_sqlite3_errcode(handle), handle, doing: "read the column '\(columnName(column))'")
            }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        default:
            throw unexpected(column, expected: "text")
        }
    }

    func optionalInt64(_ column: Int) throws -> Int64? {
        let index = try checked(column)
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_NULL: return nil
        case SQLITE_INTEGER: return sqlite_nio_sqlite3_column_int64(statement, index)
        default: throw unexpected(column, expected: "an integer")
        }
    }

    func columnName(_ column: Int) -> String {
        guard column >= 0, column < Int(sqlite_nio_sqlite3_column_count(statement)) else { return "#\(column)" }
        return sqlite_nio_sqlite3_column_name(statement, Int32(column)).map { String(cString: $0) } ?? "#\(column)"
    }

    /// `column` as SQLite's index; an error when the query has no such column (SQLite would read NULL).
    private func checked(_ column: Int) throws -> Int32 {
        let count = Int(sqlite_nio_sqlite3_column_count(statement))
        guard column >= 0, column < count else {
            throw BerthError(.internalError, "The query's result has no column #\(column) (it has \(count)).")
        }
        return Int32(column)
    }

    private func unexpected(_ column: Int, expected: String) -> BerthError {
        let types = [SQLITE_INTEGER: "an integer", SQLITE_FLOAT: "a real number", SQLITE_TEXT: "text", SQLITE_BLOB: "a blob"]
        let found = types[sqlite_nio_sqlite3_column_type(statement, Int32(column))] ?? "a value of another type"
        return BerthError(.internalError, "The column '\(columnName(column))' holds \(found) where \(expected) was expected.")
    }
}

/// An error of SQLite's C API, with SQLite's own message and (extended) result code.
struct SQLiteReadError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    init(_ code: Int32, _ handle: OpaquePointer?, doing action: String) {
        self.code = code
        let detail =
            handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite_nio_sqlite3_errstr(code))
        message = "SQLite could not \(action): \(detail) (code \(code))"
    }

    /// A failure that passes by itself (`DatabaseFailure.transient`): SQLITE_BUSY or SQLITE_LOCKED
    /// (another connection holds a lock), SQLITE_IOERR — with their extended codes.
    var isTransient: Bool { [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR].contains(code & 0xFF) }

    var description: String { message }
}
