import ArgumentParser
import BerthDomain
import BerthServer
import BerthStore
import Foundation
import Logging

/// `berth server reset-admin-key`: a new administrator API key when every key is lost or revoked,
/// made on the server's machine from its data directory (no API call, so no key is needed).
struct ResetAdminKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-admin-key",
        abstract: "Make a new administrator API key, on the server's machine (needs its data directory).",
        discussion: """
            Use it when no working API key is left. It reads the data directory's master key and writes a new \
            key to the server's database (the running server accepts it at once); the other keys stay as they are. \
            Give the --data-dir the server runs with (default ./berth-data) and, for PostgreSQL, its --database.
            """)

    /// `--data-dir` and `--database` are the server's own options (parsed by `berth server`, so
    /// they read the same as when starting it): this command reuses them.
    @OptionGroup(visibility: .hidden) var server: ServerCommand

    func run() async throws {
        var logger = Logger(label: "berth")
        logger.logLevel = .warning
        let (key, record) = try await AdministratorKeyReset.run(
            dataDirectory: URL(fileURLWithPath: server.dataDirectory),
            database: try server.databaseURL.map(DatabaseConfiguration.init(parsing:)),
            environment: ProcessInfo.processInfo.environment, logger: logger)
        Console.line("New administrator API key '\(record.name)' (shown once):\n  \(key)")
        Console.line("Revoke the keys you no longer trust with: berth apikey revoke NAME")
    }
}
