import BerthDomain
import BerthStore
import Foundation
import SQLKit
import Testing

/// A transaction whose task is cancelled is rolled back all the same, and leaves its connection
/// clean: the drivers' async calls skip the work of a cancelled task, so a ROLLBACK sent that way
/// never ran, and the pooled connection went back with its transaction open — on SQLite holding
/// the write lock for every later writer (a node whose task lease ran out stopped writing at all).
@Suite("Store: a cancelled transaction, on SQLite and PostgreSQL")
struct TransactionCancellationTests {
    @Test(
        "A transaction cancelled in its body is rolled back, and every later transaction on the pool can write",
        arguments: TestDatabase.available)
    func cancelledTransactionIsRolledBack(_ kind: TestDatabase) async throws {
        try await kind.withStore { store in
            let space = try await store.space("default")
            let (started, startedSignal) = AsyncStream<Void>.makeStream()
            await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { startedSignal.finish() }  // an UPDATE that fails ends the wait below, too
                    try await store.database.transaction { db in
                        try await db.raw("UPDATE spaces SET created_at = -1 WHERE id = \(bind: space.id)").run()
                        startedSignal.yield()
                        try await Task.sleep(for: .seconds(600))
                    }
                }
                for await _ in started { break }
                group.cancelAll()
                await #expect(throws: CancellationError.self) { try await group.next() }
            }
            // More transactions than the pool has connections, so that the one the cancelled
            // transaction held is among them; each must start, write and commit.
            for round in 0..<20 {
                try await store.database.transaction { db in
                    try await db.raw("UPDATE spaces SET created_at = \(bind: Int64(round)) WHERE id = \(bind: space.id)").run()
                }
            }
            let stored = try await store.database.withConnection { db in
                try await db.raw("SELECT created_at FROM spaces WHERE id = \(bind: space.id)").first()?.decode(
                    column: "created_at", as: Int64.self)
            }
            #expect(stored == 19)
        }
    }
}
