import BerthDomain
import Foundation

/// Where Berth keeps its records: an SQLite file (the embedded default) or a PostgreSQL server
/// (several server nodes).
public enum DatabaseConfiguration: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// Parses `sqlite:PATH` or `postgres://user:password@host:port/database`.
    public init(parsing value: String) throws(BerthError) {
        if value.hasPrefix("sqlite:") {
            let path = String(value.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw BerthError(.badRequest, "--database 'sqlite:' needs a file path, e.g. sqlite:./berth-data/berth.sqlite")
            }
            self = .sqlite(path: path)
        } else if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            guard let url = URL(string: value), url.host != nil else {
                throw BerthError(
                    .badRequest, "--database is not a PostgreSQL URL; use postgres://user:password@host:5432/database")
            }
            self = .postgres(url: value)
        } else {
            throw BerthError(
                .badRequest,
                "--database must start with sqlite: or postgres:// (got '\(Self.redacted(value))').")
        }
    }

    /// Never shows a password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redacted(url)
        }
    }

    static func redacted(_ value: String) -> String {
        guard var components = URLComponents(string: value), components.password != nil else { return value }
        components.password = "***"
        return components.string ?? "postgres://***"
    }
}
