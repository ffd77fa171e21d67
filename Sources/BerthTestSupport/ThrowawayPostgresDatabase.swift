import BerthDev
import BerthStore
import Foundation
import Logging
import SQLKit

/// A new, empty PostgreSQL database on the server of `adminURL` (the throwaway server of
/// `scripts/with-postgres.sh`, `BERTH_TEST_POSTGRES_URL`), dropped when `body` ends, whether it
/// returns or throws.
public enum ThrowawayPostgresDatabase {
    public static func with<T>(adminURL: String, _ body: (_ url: String) async throws -> T) async throws -> T {
        let logger = Logger(label: "berth.test.postgres")
        guard var components = URLComponents(string: adminURL) else {
            throw TestSupportError("BERTH_TEST_POSTGRES_URL '\(adminURL)' is not a URL")
        }
        let name = "berth_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        components.path = "/" + name
        guard let url = components.string else { throw TestSupportError("no database URL from \(adminURL)") }
        let admin = try Database(.postgres(url: adminURL), logger: logger)
        func drop() async throws {
            try await admin.withConnection { db in
                try await db.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run()
            }
        }
        do {
            try await admin.withConnection { db in try await db.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            let result = try await body(url)
            try await drop()
            await admin.shutdown()
            return result
        } catch {
            try? await drop()  // The body's error is the one to report; a database left behind is only disk.
            await admin.shutdown()
            throw error
        }
    }
}
