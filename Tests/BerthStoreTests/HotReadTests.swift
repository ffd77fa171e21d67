import BerthDomain
import Foundation
import SQLKit
import Testing

@testable import BerthStore

/// Hot reads (`Database.read`): SQLite's kept statements see every commit, start over after a
/// body stops half-way, and a wrong column is named; alike on PostgreSQL.
@Suite("Store: hot reads, on SQLite and PostgreSQL")
struct HotReadTests {
    @Test("A kept statement sees each commit made since it last ran", arguments: TestDatabase.available)
    func keptStatementsSeeCommits(_ kind: TestDatabase) async throws {
        try await kind.withStore { store in
            let space = try await store.space("default")
            let first = try await store.revision(spaceID: space.id)
            for round in 1...20 {
                try await store.database.transaction { db in try await BerthStore.bumpRevision(spaceID: space.id, db) }
                #expect(try await store.revision(spaceID: space.id) == first + round)
            }
        }
    }

    @Test(
        "SQLite keeps the listing's statements: twenty pages after another name, four roles, each prepared once per connection"
    )
    func listingStatementIsKept() async throws {
        try await TestDatabase.sqlite.withStore { store in
            let fixture = try await Fixture.make(store, now: Date(timeIntervalSince1970: 1_764_000_000))
            for index in 0..<30 {
                var target = fixture.target
                target.id = "tgt-kept-\(index)"
                target.name = "kept-\(100 + index)"
                _ = try await store.createTarget(target)
            }
            let before = try #require(store.database.hotReadStatistics)
            for index in 0..<20 {
                let page = try await store.targetListing(spaceID: fixture.space.id, limit: 5, after: "kept-\(100 + index)")
                #expect(page.entries.first?.target.name == "kept-\(101 + index)")
            }
            for role in ["web", "api", "worker", "batch"] {
                let page = try await store.targetListing(spaceID: fixture.space.id, role: role, limit: 5)
                #expect(page.entries.allSatisfy { $0.target.roles.contains(role) })
            }
            let after = try #require(store.database.hotReadStatistics)
            let prepared = after.prepared - before.prepared
            // SQLite prepares a new statement once more at its first run; never again for new binds.
            #expect(prepared >= 1 && prepared <= 8, "\(after)")
            #expect(after.reprepared - before.reprepared <= prepared, "\(before) → \(after)")
        }
    }

    @Test("A body that stops half-way leaves the statement to start over at the first row", arguments: TestDatabase.available)
    func stoppedBodyStartsOver(_ kind: TestDatabase) async throws {
        try await kind.withStore { store in
            try await store.database.transaction { db in
                for name in ["a", "b", "c"] {
                    try await db.raw(
                        "INSERT INTO spaces (id, name, slug, created_at) VALUES (\(bind: "id-" + name), \(bind: name), \(bind: "s-" + name), 0)"
                    ).run()
                }
            }
            let query: HotQuery = "SELECT name FROM spaces WHERE slug LIKE \(bind: "s-%") ORDER BY name"
            await #expect(throws: BerthError.self) {
                try await store.database.read(query) { rows in
                    _ = try rows.next()
                    throw BerthError(.conflict, "stop after the first row")
                }
            }
            let names = try await store.database.read(query) { rows in
                var names: [String] = []
                while try rows.next() { names.append(try rows.string(0)) }
                return names
            }
            #expect(names == ["a", "b", "c"])
        }
    }

    @Test("Reading a column as the wrong type fails naming the column", arguments: TestDatabase.available)
    func wrongTypeNamesTheColumn(_ kind: TestDatabase) async throws {
        try await kind.withStore { store in
            let query: HotQuery = "SELECT created_at, name FROM spaces WHERE slug = \(bind: "default")"
            if kind == .sqlite {  // PostgresNIO reads an integer as text, in decimal
                let integer = await #expect(throws: BerthError.self) {
                    try await store.database.read(query) { rows in
                        _ = try rows.next()
                        return try rows.string(0)
                    }
                }
                #expect(integer?.message.contains("'created_at'") == true, "\(String(describing: integer))")
            }
            let text = await #expect(throws: BerthError.self) {
                try await store.database.read(query) { rows in
                    _ = try rows.next()
                    return try rows.int64(1)
                }
            }
            #expect(text?.message.contains("'name'") == true, "\(String(describing: text))")
        }
    }
}
