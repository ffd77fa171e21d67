import BerthDomain
import BerthStore
import BerthTestSupport
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
        try await withStores(1) { try await body($0[0]) }
    }

    /// `count` stores (each with a pool of its own, as separate nodes have) on one new database.
    func withStores<T>(_ count: Int, _ body: ([BerthStore]) async throws -> T) async throws -> T {
        let logger = Logger(label: "berth.test.store")
        func run(_ configuration: DatabaseConfiguration) async throws -> T {
            var stores: [BerthStore] = []
            do {
                for _ in 0..<count { stores.append(try await BerthStore.open(configuration, logger: logger)) }
                let result = try await body(stores)
                for store in stores { await store.close() }
                return result
            } catch {
                for store in stores { await store.close() }
                throw error
            }
        }
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            return try await run(.sqlite(path: directory.appendingPathComponent("berth.sqlite").path))
        case .postgres:
            let adminURL = try #require(ProcessInfo.processInfo.environment["BERTH_TEST_POSTGRES_URL"])
            return try await ThrowawayPostgresDatabase.with(adminURL: adminURL) { try await run(.postgres(url: $0)) }
        }
    }
}

@Test("make test runs the store suite on PostgreSQL too")
func postgresIsConfiguredWhenRequired() {
    if ProcessInfo.processInfo.environment["BERTH_REQUIRE_POSTGRES"] == "1" {
        #expect(TestDatabase.available.contains(.postgres), "BERTH_TEST_POSTGRES_URL is missing under make test")
    }
}
