import BerthDomain
import BerthStore
import Foundation
import Logging
import SQLKit
import Testing

@Suite("Store: references, races, finished tasks and the last API key, on SQLite and PostgreSQL")
struct IntegrityStoreTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    /// A project with one release deployed once to `environment`.
    func deployOnce(_ store: BerthStore, to environment: Environment, project name: String) async throws -> Deployment {
        let project = try await store.createProject(Project(spaceID: environment.spaceID, name: name, createdAt: now))
        let release = try await store.createRelease(
            Release(
                spaceID: environment.spaceID, projectID: project.id, version: "1.0",
                snapshot: ReleaseSnapshot(steps: [], variables: [], images: [:]), createdAt: now))
        let task = ServerTask(spaceID: environment.spaceID, kind: .deployment, description: "Deploy", createdAt: now)
        let deployment = Deployment(
            spaceID: environment.spaceID, projectID: project.id, releaseID: release.id, environmentID: environment.id,
            taskID: task.id, createdAt: now)
        try await store.createDeployment(deployment, task: task)
        return deployment
    }

    @Test(
        "An environment with deployment history is refused with a conflict naming the projects, and the history stays readable",
        arguments: TestDatabase.available)
    func environmentWithHistory(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            let staging = try await store.createEnvironment(
                Environment(spaceID: space.id, name: "Staging", sortOrder: 0, createdAt: now), position: nil)
            _ = try await deployOnce(store, to: staging, project: "Shop")
            do {
                try await store.deleteEnvironment(id: staging.id, spaceID: space.id)
                Issue.record("an environment with deployments was deleted")
            } catch let error as BerthError {
                #expect(error.code == .conflict)
                #expect(
                    error.message.contains("The environment 'Staging' is still used by the deployments of the project 'Shop' (1)")
                )
            }
            let history = try await store.deployments(spaceID: space.id, .init())
            #expect(history.map(\.environmentName) == ["Staging"])
        }
    }

    @Test("A duplicate row and a missing reference are told apart on both databases", arguments: TestDatabase.available)
    func failuresAreClassified(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            let insert: SQLQueryString = """
                INSERT INTO environments (id, space_id, name, slug, sort_order, created_at) \
                VALUES ('env-1', \(bind: space.id), 'Production', 'production', 0, 0)
                """
            try await store.database.transaction { db in try await db.raw(insert).run() }
            do {
                try await store.database.transaction { db in try await db.raw(insert).run() }
                Issue.record("the duplicate was inserted")
            } catch {
                #expect(DatabaseFailure(classifying: error) == .uniqueViolation, "\(String(reflecting: error))")
            }
            do {
                try await store.database.transaction { db in
                    try await db.raw(
                        "INSERT INTO account_environments (account_id, environment_id) VALUES ('no-such-account', 'env-1')"
                    ).run()
                }
                Issue.record("a link to a missing account was inserted")
            } catch {
                #expect(DatabaseFailure(classifying: error) == .foreignKeyViolation, "\(String(reflecting: error))")
            }
            #expect(DatabaseFailure(classifying: BerthError(.conflict, "x")) == .other)
        }
    }

    @Test(
        "Two writers that both pass the name check: the one that loses at the unique index gets the same 409",
        arguments: TestDatabase.available.filter { $0 == .postgres })
    func uniqueRaceIsAConflict(database: TestDatabase) async throws {
        // Only PostgreSQL lets two writers overlap (SQLite takes its write lock at BEGIN): the first
        // writer holds an uncommitted row; the second checks (does not see it), inserts, waits on
        // the index, and fails when the first commits.
        try await database.withStore { store in
            let space = try await store.space("default")
            let (inserted, insertedSignal) = AsyncStream<Void>.makeStream()
            let (commit, commitSignal) = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await store.database.transaction { db in
                        try await db.raw(
                            """
                            INSERT INTO environments (id, space_id, name, slug, sort_order, created_at) \
                            VALUES ('env-first', \(bind: space.id), 'Production', 'production', 0, 0)
                            """
                        ).run()
                        insertedSignal.yield()
                        for await _ in commit { break }
                    }
                }
                for await _ in inserted { break }
                group.addTask {
                    do {
                        _ = try await store.createEnvironment(
                            Environment(spaceID: space.id, name: "PRODUCTION", sortOrder: 0, createdAt: now), position: nil)
                        Issue.record("the second writer's environment was created")
                    } catch let error as BerthError {
                        #expect(error.code == .conflict)
                        #expect(error.message == "An environment named 'PRODUCTION' already exists in this space.")
                    }
                }
                // The second writer is blocked on the first one's row once PostgreSQL shows it waiting for a lock.
                var waiting = false
                for _ in 0..<500 where !waiting {
                    let row = try await store.database.withConnection { db in
                        try await db.raw(
                            "SELECT COUNT(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                        ).first()
                    }
                    waiting = try (row?.decode(column: "waiting", as: Int64.self) ?? 0) > 0
                    if !waiting { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(waiting, "the second writer never waited on the first one's row")
                commitSignal.yield()
                try await group.waitForAll()
            }
            #expect(try await store.listEnvironments(spaceID: space.id).map(\.id) == ["env-first"])
        }
    }

    @Test(
        "A finished task stays finished: a late finish changes nothing, not its log, not its target's health",
        arguments: TestDatabase.available)
    func finishedTasksStayFinished(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            let task = ServerTask(
                spaceID: fixture.space.id, kind: .healthCheck, description: "check", targetID: fixture.target.id, createdAt: now)
            let queued = ServerTask(spaceID: fixture.space.id, kind: .accountTest, description: "later", createdAt: now)
            try await store.createTasks([task, queued])
            #expect(try await store.startTask(id: task.id, at: now))
            // Adopted too often already: the node that finds it gives it up and fails it.
            let b = TaskOwner(node: "b")
            let adopted = try await store.adoptAbandonedTasks(
                by: b, limit: 5, at: now, leaseUntil: now.addingTimeInterval(15), maximumAdoptions: 0
            ) { _, _ in "The server stopped." }
            #expect(adopted.map(\.fate) == [.failed])
            #expect(
                try await store.finishTask(
                    id: task.id, outcome: TaskOutcome(state: .failed, errorMessage: "The server stopped."), at: now, owner: b))
            #expect(try await store.task(id: task.id)?.state == .failed)
            let healthBefore = try await store.target(id: fixture.target.id)?.health

            let late = try await store.finishTask(
                id: task.id, outcome: TaskOutcome(state: .succeeded), at: now.addingTimeInterval(60),
                lastLines: [TaskLogLine(sequence: 9, time: now, level: .info, message: "Task succeeded.")],
                targetHealth: (
                    fixture.target.id, TargetHealth(status: .healthy, message: "ok", checkedAt: now, taskID: task.id)
                ))
            #expect(late == false)
            let stored = try #require(try await store.task(id: task.id))
            #expect(stored.state == .failed)
            #expect(stored.errorMessage == "The server stopped.")
            #expect(stored.completedAt == now)
            #expect(try await store.taskLog(taskID: task.id).map(\.message) == ["The server stopped."])
            #expect(try await store.target(id: fixture.target.id)?.health == healthBefore)

            #expect(try await store.finishTask(id: queued.id, outcome: TaskOutcome(state: .succeeded), at: now) == false)
            #expect(try await store.task(id: queued.id)?.state == .queued, "a task that never started is not finished")
        }
    }

    @Test("The last active API key is not revoked: everyone would be locked out", arguments: TestDatabase.available)
    func lastAPIKeyStays(database: TestDatabase) async throws {
        try await database.withStore { store in
            let first = try await store.createAPIKey(
                APIKey(name: "administrator", prefix: "berth_aaaaaa", hash: String(repeating: "a", count: 64), createdAt: now))
            let second = try await store.createAPIKey(
                APIKey(name: "ci", prefix: "berth_bbbbbb", hash: String(repeating: "b", count: 64), createdAt: now))
            #expect(try await store.revokeAPIKey(first.name, at: now).revokedAt == now)
            do {
                _ = try await store.revokeAPIKey(second.id, at: now)
                Issue.record("the last active key was revoked")
            } catch let error as BerthError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("'ci' is the last active administrator key"))
                #expect(error.message.contains("berth server reset-admin-key"))
            }
            #expect(try await store.apiKey(hash: second.hash)?.revokedAt == nil)
        }
    }

    @Test(
        "The administrator's last key is kept even when other users have keys; with a password they have another way in",
        arguments: TestDatabase.available)
    func administratorsLastWayIn(database: TestDatabase) async throws {
        try await database.withStore { store in
            let admin = try await store.createAPIKey(
                APIKey(name: "administrator", prefix: "berth_aaaaaa", hash: String(repeating: "a", count: 64), createdAt: now))
            let developer = try await store.createUser(User(username: "dev", displayName: "Dev", createdAt: now))
            var theirs = APIKey(name: "dev-key", prefix: "berth_bbbbbb", hash: String(repeating: "b", count: 64), createdAt: now)
            theirs.userID = developer.id
            _ = try await store.createAPIKey(theirs)
            // An expiring key of the administrator's is no lasting way in either.
            var expiring = APIKey(
                name: "admin-for-a-day", prefix: "berth_cccccc", hash: String(repeating: "c", count: 64), createdAt: now)
            expiring.expiresAt = now.addingTimeInterval(86_400)
            _ = try await store.createAPIKey(expiring)
            do {
                _ = try await store.revokeAPIKey(admin.name, at: now)
                Issue.record("the administrator's last lasting key was revoked because another user has a key")
            } catch let error as BerthError {
                #expect(error.code == .conflict, "\(error)")
            }
            #expect(try await store.apiKey(hash: admin.hash)?.revokedAt == nil)
            // The developer's only key goes: they are no administrator.
            #expect(try await store.revokeAPIKey("dev-key", at: now).revokedAt == now)
            // Another administrator who has no way in does not count: the one who has cannot be disabled.
            let other = try await store.createUser(User(username: "other-admin", displayName: "Other", createdAt: now))
            try await store.addTeamMember(teamID: Team.administratorsID, userID: other.id)
            var administrator = try await store.user(User.administratorName)
            administrator.isDisabled = true
            do {
                try await store.updateUser(administrator)
                Issue.record("the only administrator with a way in was disabled")
            } catch let error as BerthError {
                #expect(error.code == .conflict && error.message.contains("a way in"), "\(error)")
            }
            #expect(try await store.user(User.administratorName).isDisabled == false)
            // With a password the administrator can still log in: the key may go.
            try await store.setPasswordHash(userID: User.administratorID, "$2b$12$notarealhashbutnotnulleither")
            #expect(try await store.revokeAPIKey(admin.name, at: now).revokedAt == now)
        }
    }
}

@Suite("Store: transient failures are retried (SQLite locked by another process)")
struct TransientRetryTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test("A task's outcome is written even when the database is locked at the first attempt")
    func finishIsRetriedWhileLocked() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-retry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("berth.sqlite").path
        let logger = Logger(label: "berth.test.retry")
        let setup = try await BerthStore.open(.sqlite(path: path), logger: logger)
        let space = try await setup.space("default")
        let task = ServerTask(spaceID: space.id, kind: .accountTest, description: "test", createdAt: now)
        try await setup.createTasks([task])
        #expect(try await setup.startTask(id: task.id, at: now))
        await setup.close()

        // This process's store gives up on a lock after 50 ms; another "process" (its own pool and
        // write gate) holds SQLite's write lock until the first retry pauses.
        let store = BerthStore(database: try Database(.sqlite(path: path), logger: logger, sqliteBusyTimeout: .milliseconds(50)))
        let other = try Database(.sqlite(path: path), logger: logger)
        let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
        let (unlock, unlockSignal) = AsyncStream<Void>.makeStream()
        let (committed, committedSignal) = AsyncStream<Void>.makeStream()
        let failures = Failures()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await other.transaction { _ in
                    lockedSignal.yield()
                    for await _ in unlock { break }
                }
                committedSignal.yield()
            }
            for await _ in locked { break }
            let retry = TransientRetry(sleep: { _ in
                // The first pause lets the holder commit, and waits until it has.
                guard await failures.add() == 1 else { return }
                unlockSignal.yield()
                for await _ in committed { break }
            })
            let finished = try await retry.run("finish the task", logger: logger) {
                try await store.finishTask(id: task.id, outcome: TaskOutcome(state: .succeeded), at: now)
            }
            #expect(finished)
            try await group.waitForAll()
        }
        #expect(await failures.count >= 1, "the first attempt should have met the lock")
        #expect(try await store.task(id: task.id)?.state == .succeeded)
        await store.close()
        await other.shutdown()
    }

    @Test("A failure that will not pass is not retried")
    func permanentFailuresAreThrown() async throws {
        let failures = Failures()
        let retry = TransientRetry(sleep: { _ in await failures.add() })
        await #expect(throws: BerthError.self) {
            try await retry.run("write", logger: Logger(label: "berth.test.retry")) {
                throw BerthError(.conflict, "no")
            }
        }
        #expect(await failures.count == 0)
    }

    actor Failures {
        var count = 0
        @discardableResult
        func add() -> Int {
            count += 1
            return count
        }
    }
}
