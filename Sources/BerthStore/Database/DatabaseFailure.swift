import BerthDomain
import NIOCore
import NIOPosix
import PostgresKit
import SQLiteKit

/// What a database error means to the code that caused it, alike on SQLite and PostgreSQL: a
/// unique constraint that another writer got to first, a foreign key, a failure that passes by
/// itself (a lock, a lost connection, a serialization conflict), or anything else.
public enum DatabaseFailure: Sendable, Hashable {
    case uniqueViolation
    case foreignKeyViolation
    case transient
    case other

    public init(classifying error: any Error) {
        switch error {
        case let error as SQLiteError: self = Self.sqlite(error)
        case let error as PSQLError: self = Self.postgres(error)
        case let error as SQLiteReadError: self = error.isTransient ? .transient : .other
        case is IOError, is ChannelError, is NIOConnectionError: self = .transient
        default: self = .other
        }
    }

    private static func sqlite(_ error: SQLiteError) -> DatabaseFailure {
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed: return .uniqueViolation
        case .constraintForeignKeyFailed: return .foreignKeyViolation
        case .constraint:
            // Without extended result codes SQLite says which constraint only in its message.
            if error.message.contains("UNIQUE constraint failed") { return .uniqueViolation }
            if error.message.contains("FOREIGN KEY constraint failed") { return .foreignKeyViolation }
            return .other
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .lockedBySharedCache, .ioError:
            return .transient
        default:
            return .other
        }
    }

    private static func postgres(_ error: PSQLError) -> DatabaseFailure {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            switch state {
            case "23505": return .uniqueViolation
            case "23503": return .foreignKeyViolation
            // serialization_failure, deadlock_detected, lock_not_available, admin_shutdown,
            // crash_shutdown, cannot_connect_now, too_many_connections; class 08: connection exceptions.
            case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300": return .transient
            default: return state.hasPrefix("08") ? .transient : .other
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return .transient
        default:
            return .other
        }
    }
}

extension Database {
    /// `transaction(_:)`, answering a unique-constraint violation with `duplicate`: two writers can
    /// both pass an explicit "is this name free?" check before either commits, and the one that
    /// loses at the unique index must hear the same 409 as if it had come second, never a 500.
    public func transaction<T: Sendable>(
        orIfDuplicate duplicate: BerthError, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await transaction(answering: [.uniqueViolation: duplicate], body)
    }

    /// `transaction(_:)`, answering a foreign key to a row that was deleted meanwhile with
    /// `missingReference` (the check that it exists passed before the delete committed).
    public func transaction<T: Sendable>(
        orIfMissingReference missingReference: BerthError, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await transaction(answering: [.foreignKeyViolation: missingReference], body)
    }

    private func transaction<T: Sendable>(
        answering answers: [DatabaseFailure: BerthError], _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        do {
            return try await transaction(body)
        } catch {
            throw answers[DatabaseFailure(classifying: error)] ?? error
        }
    }
}
