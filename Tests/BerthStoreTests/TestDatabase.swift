import BerthDomain
import BerthStore
import Foundation
import Logging
import SQLKit
import Testing

/// The databases the store suite runs against: SQLite always, PostgreSQL when
/// `BERTH_TEST_POSTGRES_URL` is set (`make test` starts one with scripts/with-postgres.sh).
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    static var available: [TestDatabase] {
        ProcessInfo.processInfo.environment["BERTH_TEST_POSTGRES_URL"] == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    var testDescription: String { rawValue }

    /// A new, empty database of this kind, migrated; removed by `body`'s end.
    func withStore<T>(_ body: (BerthStore) async throws -> T) async throws -> T {
        let logger = Logger(label: "berth.test.store")
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try await BerthStore.open(
                .sqlite(path: directory.appendingPathComponent("berth.sqlite").path), logger: logger)
            do {
                let result = try await body(store)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        case .postgres:
            let adminURL = try #require(ProcessInfo.processInfo.environment["BERTH_TEST_POSTGRES_URL"])
            let name = "berth_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
            let admin = try Database(.postgres(url: adminURL), logger: logger)
            try await admin.withConnection { db in try await db.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            var components = try #require(URLComponents(string: adminURL))
            components.path = "/" + name
            let store = try await BerthStore.open(.postgres(url: try #require(components.string)), logger: logger)
            do {
                let result = try await body(store)
                await store.close()
                try await admin.withConnection { db in try await db.raw("DROP DATABASE \(unsafeRaw: name)").run() }
                await admin.shutdown()
                return result
            } catch {
                await store.close()
                await admin.shutdown()
                throw error
            }
        }
    }
}

@Test("make test runs the store suite on PostgreSQL too")
func postgresIsConfiguredWhenRequired() {
    if ProcessInfo.processInfo.environment["BERTH_REQUIRE_POSTGRES"] == "1" {
        #expect(TestDatabase.available.contains(.postgres), "BERTH_TEST_POSTGRES_URL is missing under make test")
    }
}
