// AsyncKit's pools lock internally and are safe to share, but predate Sendable annotations.
@preconcurrency import AsyncKit
import BerthDomain
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// A pool of connections to SQLite or PostgreSQL, with transactions that hold one connection.
public final class Database: Sendable {
    public enum Dialect: Sendable { case sqlite, postgres }

    public let dialect: Dialect
    let configuration: DatabaseConfiguration
    private let pool: Pool
    /// For PostgresNIO's queries of `read(_:_:)` (SQLKit's carry the pool's own).
    private let logger: Logger
    /// SQLite: the hot reads' own connections (`read(_:_:)`).
    private let reader: SQLiteReader?
    /// SQLite allows one writer at a time. Writers of this process queue here, instead of inside
    /// SQLite's busy wait, which blocks one of the few threads that every connection needs.
    private let writeGate = WriteGate()

    private enum Pool: Sendable {
        case sqlite(EventLoopGroupConnectionPool<SQLitePragmaSource>)
        case postgres(EventLoopGroupConnectionPool<PostgresConnectionSource>)
    }

    /// Opens the pool. SQLite files are created and switched to WAL; nothing connects to PostgreSQL
    /// before the first query.
    /// - Parameter sqliteBusyTimeout: how long an SQLite write waits for another process's write
    ///   lock before it fails (as a transient failure, see `DatabaseFailure`).
    public init(
        _ configuration: DatabaseConfiguration, logger: Logger, sqliteBusyTimeout: Duration = .seconds(10)
    ) throws(BerthError) {
        self.configuration = configuration
        self.logger = logger
        let group = MultiThreadedEventLoopGroup.singleton
        switch configuration {
        case .sqlite(let path):
            dialect = .sqlite
            let busyTimeoutMilliseconds =
                Int(sqliteBusyTimeout.components.seconds) * 1000
                + Int(sqliteBusyTimeout.components.attoseconds / 1_000_000_000_000_000)
            let source = SQLitePragmaSource(
                base: SQLiteConnectionSource(configuration: .init(storage: .file(path: path), enableForeignKeys: true)),
                busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            reader = SQLiteReader(path: path, busyTimeoutMilliseconds: Int32(clamping: busyTimeoutMilliseconds))
            pool = .sqlite(
                EventLoopGroupConnectionPool(
                    source: source, maxConnectionsPerEventLoop: 4, pruneInterval: nil, logger: logger, on: group))
        case .postgres(let url):
            dialect = .postgres
            reader = nil
            let sqlConfiguration: SQLPostgresConfiguration
            do {
                sqlConfiguration = try SQLPostgresConfiguration(url: url)
            } catch {
                throw BerthError(.badRequest, "The PostgreSQL URL \(configuration) cannot be used: \(error)")
            }
            pool = .postgres(
                EventLoopGroupConnectionPool(
                    source: PostgresConnectionSource(sqlConfiguration: sqlConfiguration), maxConnectionsPerEventLoop: 8,
                    pruneInterval: nil, logger: logger, on: group))
        }
    }

    /// Runs `body` on one pooled connection.
    public func withConnection<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch pool {
        case .sqlite(let pool):
            let connection = try await pool.requestConnection().get()
            defer { pool.releaseConnection(connection) }
            return try await body(connection.sql())
        case .postgres(let pool):
            let connection = try await pool.requestConnection().get()
            defer { pool.releaseConnection(connection) }
            return try await body(connection.sql())
        }
    }

    /// SQLite: how many hot-read statements were prepared, and how many runs SQLite prepared again.
    var hotReadStatistics: (prepared: Int, reprepared: Int)? { reader?.statistics }

    /// Runs `query` and lets `body` read its rows column by position (`RowCursor`): for hot paths
    /// that read many rows, or often. On SQLite through `SQLiteReader` (prepared statements kept,
    /// rows read in place as SQLite steps, on the thread pool); on PostgreSQL through one pooled
    /// connection, with PostgresNIO's own decoding.
    func read<T: Sendable>(
        _ query: HotQuery, _ body: @escaping @Sendable (inout any RowCursor) throws -> T
    ) async throws -> T {
        switch pool {
        case .sqlite:
            guard let reader else { throw BerthError(.internalError, "The SQLite database has no reader.") }
            return try await reader.read(query.sql(for: .sqlite), query.binds) { (cursor: inout SQLiteCursor) in
                var rows: any RowCursor = cursor
                return try body(&rows)
            }
        case .postgres(let pool):
            let connection = try await pool.requestConnection().get()
            defer { pool.releaseConnection(connection) }
            var bindings = PostgresBindings(capacity: query.binds.count)
            for bind in query.binds {
                switch bind {
                case .text(let text): bindings.append(text)
                case .integer(let integer): bindings.append(integer)
                }
            }
            let result = try await connection.query(
                PostgresQuery(unsafeSQL: query.sql(for: .postgres), binds: bindings), logger: logger)
            var received: [PostgresRandomAccessRow] = []
            for try await row in result { received.append(row.makeRandomAccess()) }
            var rows: any RowCursor = PostgresRowCursor(received)
            return try body(&rows)
        }
    }

    /// Runs `body` in one transaction: every change it makes is committed together, or none is.
    /// Every write goes through here.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard dialect == .sqlite else { return try await runTransaction(body) }
        await writeGate.enter()
        do {
            let result = try await runTransaction(body)
            await writeGate.leave()
            return result
        } catch {
            await writeGate.leave()
            throw error
        }
    }

    private func runTransaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection { database in
            // IMMEDIATE takes SQLite's write lock up front, so two writers wait for each other
            // (busy_timeout) instead of failing when a reader upgrades.
            try await database.raw(dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            // The request's audit event goes in with its first change: both commit, or neither.
            let pending = AuditTrail.pending
            var event: AuditEvent?
            do {
                let result = try await body(database)
                event = pending?.take()
                if let event, let pending {
                    try await AuditTrail.append(
                        event, key: pending.key, database, dialect: dialect == .postgres ? .postgres : .sqlite)
                }
                try await Self.end("COMMIT", database)
                return result
            } catch {
                do {
                    try await Self.end("ROLLBACK", database)
                } catch let rollbackError {
                    logger.error(
                        "A transaction could not be rolled back", metadata: ["error": "\(rollbackError)", "cause": "\(error)"])
                }
                if event != nil { pending?.giveBack() }
                throw error
            }
        }
    }

    /// Runs COMMIT or ROLLBACK to its end even when the calling task is cancelled.
    ///
    /// The drivers' async calls skip the work of a cancelled task (NIOThreadPool's `runIfActive`
    /// throws CancellationError without running it), so a task cancelled in a transaction — a step
    /// stopped, a lease lost — never sent its ROLLBACK, and its pooled connection went back with the
    /// transaction open: on SQLite holding the write lock against every later writer, for good.
    /// The future-based calls always run.
    private static func end(_ statement: String, _ database: any SQLDatabase) async throws {
        let done: EventLoopFuture<Void> = database.execute(sql: SQLRaw(statement)) { _ in }
        try await done.get()
    }

    /// PostgreSQL: holds one connection that LISTENs on `channel` and calls `onNotification` for
    /// every NOTIFY on it, until the calling task is cancelled or the connection fails (then it
    /// throws). SQLite has no notifications: returns at once.
    public func listen(on channel: String, _ onNotification: @escaping @Sendable () -> Void) async throws {
        guard case .postgres(let pool) = pool else { return }
        let connection = try await pool.requestConnection().get()
        defer { pool.releaseConnection(connection) }
        try await connection.listen(on: channel) { notifications in
            for try await _ in notifications { onNotification() }
        }
    }

    public func shutdown() async {
        reader?.close()
        switch pool {
        case .sqlite(let pool): try? await pool.shutdownAsync()
        case .postgres(let pool): try? await pool.shutdownAsync()
        }
    }
}

/// A first-come, first-served lock for async code.
actor WriteGate {
    private var isHeld = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard isHeld else {
            isHeld = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            isHeld = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// SQLite connections with the settings a server needs: wait up to 10 s (by default) for a lock,
/// sync the WAL at checkpoints only (durable across process crashes; a power loss may drop the
/// last commits), and a page cache of 1 MiB per connection (SQLite's default is 2 MiB; with up to
/// eight connections that was 16 MiB of heap kept after a burst, for a database the OS caches anyway).
struct SQLitePragmaSource: ConnectionPoolSource {
    let base: SQLiteConnectionSource
    let busyTimeoutMilliseconds: Int

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        base.makeConnection(logger: logger, on: eventLoop).flatMap { connection in
            connection.query("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)").flatMap { _ in
                connection.query("PRAGMA journal_mode = WAL")
            }.flatMap { _ in
                connection.query("PRAGMA synchronous = NORMAL")
            }.flatMap { _ in
                connection.query("PRAGMA cache_size = -1024")
            }.map { _ in connection }
        }
    }
}
