import BerthDomain
import BerthStore
import Foundation
import SQLKit
import Testing

@Suite("Store, on SQLite and PostgreSQL")
struct StoreTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test("Migrations run once and the default space comes with its default worker pool", arguments: TestDatabase.available)
    func migrationsAndDefaults(database: TestDatabase) async throws {
        try await database.withStore { store in
            #expect(try await Migrations.currentVersion(store.database) == Migrations.all.last?.version)
            #expect(try await Migrations.migrate(store.database).isEmpty)
            let spaces = try await store.listSpaces()
            #expect(spaces.map(\.name) == ["default"])
            let pools = try await store.listWorkerPools(spaceID: spaces[0].id)
            #expect(pools.map(\.name) == [WorkerPool.defaultName])
            #expect(pools[0].isDefault)
        }
    }

    @Test("Environments keep their order through inserts, moves, renames and deletes", arguments: TestDatabase.available)
    func environmentOrder(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            for name in ["Development", "Production"] {
                _ = try await store.createEnvironment(
                    Environment(spaceID: space.id, name: name, sortOrder: 0, createdAt: now), position: nil)
            }
            let staging = try await store.createEnvironment(
                Environment(spaceID: space.id, name: "Staging", sortOrder: 0, createdAt: now), position: 1)
            #expect(try await store.listEnvironments(spaceID: space.id).map(\.name) == ["Development", "Staging", "Production"])
            #expect(try await store.listEnvironments(spaceID: space.id).map(\.sortOrder) == [0, 1, 2])

            let moved = try await store.updateEnvironment(id: staging.id, spaceID: space.id, name: "QA", position: 0)
            #expect(moved.name == "QA" && moved.sortOrder == 0 && moved.slug == "qa")
            #expect(try await store.listEnvironments(spaceID: space.id).map(\.name) == ["QA", "Development", "Production"])
            #expect(try await store.environment("qa", spaceID: space.id).id == staging.id)

            await #expect(throws: BerthError.self) {
                _ = try await store.createEnvironment(
                    Environment(spaceID: space.id, name: "production", sortOrder: 0, createdAt: now), position: nil)
            }
            try await store.deleteEnvironment(id: staging.id, spaceID: space.id)
            #expect(try await store.listEnvironments(spaceID: space.id).map(\.sortOrder) == [0, 1])
        }
    }

    @Test("An environment in use is not deleted, and the error names every user", arguments: TestDatabase.available)
    func environmentInUse(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            do {
                try await store.deleteEnvironment(id: fixture.production.id, spaceID: fixture.space.id)
                Issue.record("the delete went through")
            } catch let error as BerthError {
                #expect(error.code == .conflict)
                #expect(error.message.contains("account 'Prod keys'"))
                #expect(error.message.contains("target 'web-1'"))
            }
            #expect(try await store.findEnvironment(fixture.production.id, spaceID: fixture.space.id) != nil)
        }
    }

    @Test("Accounts store every field, sealed secrets as given, and environment links", arguments: TestDatabase.available)
    func accountRoundTrip(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            let loaded = try await store.account("prod-keys", spaceID: fixture.space.id)
            #expect(loaded == fixture.account)
            #expect(loaded.secretKey?.ciphertext == "v1:sealed-bytes")

            var changed = loaded
            changed.environmentIDs = []
            changed.description = "now everywhere"
            changed.updatedAt = now.addingTimeInterval(60)
            _ = try await store.updateAccount(changed)
            let reloaded = try await store.account(loaded.id, spaceID: fixture.space.id)
            #expect(reloaded.environmentIDs.isEmpty)
            #expect(reloaded.description == "now everywhere")

            let oidc = try await store.createAccount(
                Account(
                    spaceID: fixture.space.id, kind: .awsOIDC, name: "Keyless",
                    roleARN: "arn:aws:iam::123456789012:role/Deployer",
                    sessionDuration: 3600, audience: "berth.example.com", subjectKeys: ["space", "environment"],
                    customClaims: ["https://aws.amazon.com/tags": "team"], createdAt: now))
            #expect(try await store.account(id: oidc.id) == oidc)
        }
    }

    @Test("An account that a target uses is not deleted", arguments: TestDatabase.available)
    func accountInUse(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            await #expect(throws: BerthError.self) { try await store.deleteAccount(id: fixture.account.id) }
            try await store.deleteTarget(id: fixture.target.id)
            try await store.deleteAccount(id: fixture.account.id)
            #expect(try await store.account(id: fixture.account.id) == nil)
        }
    }

    @Test("Targets page by name and filter by environment and role", arguments: TestDatabase.available)
    func targetPaging(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            let pool = try await store.defaultWorkerPool(spaceID: fixture.space.id)
            for index in 0..<25 {
                _ = try await store.createTarget(
                    ECSClusterTarget(
                        spaceID: fixture.space.id, name: String(format: "batch-%02d", index),
                        environmentIDs: [index.isMultiple(of: 2) ? fixture.production.id : fixture.staging.id],
                        roles: [index.isMultiple(of: 5) ? "worker_a" : "web"], authentication: .workerCredentials,
                        assumeRole: nil, region: "eu-west-1", clusterName: "c\(index)", workerPoolID: pool.id, createdAt: now))
            }
            var names: [String] = []
            var cursor: String?
            repeat {
                let page = try await store.listTargets(spaceID: fixture.space.id, limit: 10, after: cursor)
                names += page.targets.map(\.name)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(names.count == 26)
            #expect(names == names.sorted())

            let inStaging = try await store.listTargets(spaceID: fixture.space.id, environmentID: fixture.staging.id, limit: 100)
            #expect(inStaging.targets.count == 12)
            let workers = try await store.listTargets(spaceID: fixture.space.id, role: "worker_a", limit: 100)
            #expect(workers.targets.map(\.name) == ["batch-00", "batch-05", "batch-10", "batch-15", "batch-20"])
            // '_' is a LIKE wildcard; it must match itself only.
            #expect(try await store.listTargets(spaceID: fixture.space.id, role: "worker-a", limit: 100).targets.isEmpty)
        }
    }

    @Test("A task runs once: started, logged, finished with its target's health in one go", arguments: TestDatabase.available)
    func taskLifecycle(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            let task = ServerTask(
                spaceID: fixture.space.id, kind: .healthCheck, description: "check", targetID: fixture.target.id, createdAt: now)
            try await store.createTasks([task])
            let revisionBefore = try await store.revision(spaceID: fixture.space.id)
            #expect(revisionBefore >= 4, "creating environments, an account and a target bumps the revision")
            #expect(try await store.queuedTasks().map(\.id) == [task.id])
            #expect(try await store.startTask(id: task.id, at: now))
            #expect(try await store.startTask(id: task.id, at: now) == false)
            try await store.appendLog(taskID: task.id, [TaskLogLine(sequence: 1, time: now, level: .info, message: "one")])
            let health = TargetHealth(status: .unhealthy, message: "INACTIVE", checkedAt: now, taskID: task.id)
            try await store.finishTask(
                id: task.id, outcome: TaskOutcome(state: .failed, errorMessage: "INACTIVE", healthStatus: .unhealthy), at: now,
                lastLines: [TaskLogLine(sequence: 2, time: now, level: .error, message: "two")],
                targetHealth: (fixture.target.id, health))
            let finished = try #require(try await store.task(id: task.id))
            #expect(finished.state == .failed && finished.healthStatus == .unhealthy && finished.completedAt == now)
            #expect(try await store.taskLog(taskID: task.id).map(\.message) == ["one", "two"])
            #expect(try await store.taskLog(taskID: task.id, after: 1).map(\.message) == ["two"])
            #expect(try await store.target(id: fixture.target.id)?.health == health)
            #expect(try await store.revision(spaceID: fixture.space.id) == revisionBefore + 1)
        }
    }

    @Test(
        "Tasks left executing by a stopped server are adopted with a log line saying so, three times at most; then failed",
        arguments: TestDatabase.available)
    func abandonedTasks(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fixture = try await Fixture.make(store, now: now)
            let running = ServerTask(spaceID: fixture.space.id, kind: .accountTest, description: "a", createdAt: now)
            let queued = ServerTask(spaceID: fixture.space.id, kind: .accountTest, description: "b", createdAt: now)
            try await store.createTasks([running, queued])
            _ = try await store.startTask(id: running.id, at: now)
            var time = now
            for round in 1...3 {
                let adopted = try await store.adoptAbandonedTasks(
                    by: TaskOwner(node: "n\(round)"), limit: 5, at: time, leaseUntil: time.addingTimeInterval(15)
                ) { previous, fate in "\(fate) from \(previous ?? "nobody")" }
                #expect(adopted.map(\.task.id) == [running.id])
                #expect(adopted.first?.task.ownerNode == "n\(round)")
                #expect(adopted.first?.previousNode == (round == 1 ? nil : "n\(round - 1)"))
                let log = try await store.taskLog(taskID: running.id)
                #expect(adopted.first?.lastLogSequence == log.count)
                #expect(log.last?.message == "adopted from \(round == 1 ? "nobody" : "n\(round - 1)")")
                #expect(try await store.task(id: running.id)?.state == .executing)
                time.addTimeInterval(16)
            }
            // The fourth death: n4 adopts it to give it up (it cleans up, then fails it).
            let fourth = try await store.adoptAbandonedTasks(
                by: TaskOwner(node: "n4"), limit: 5, at: time, leaseUntil: time.addingTimeInterval(15)
            ) { previous, fate in "\(fate) from \(previous ?? "nobody")" }
            #expect(fourth.map(\.fate) == [.failed])
            #expect(fourth.first?.task.ownerNode == "n4")
            #expect(try await store.taskLog(taskID: running.id).last?.message == "failed from n3")
            #expect(try await store.task(id: queued.id)?.state == .queued)
        }
    }

    @Test("A multi-row change that fails leaves nothing behind", arguments: TestDatabase.available)
    func transactionsAreAtomic(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            let first = ServerTask(spaceID: space.id, kind: .accountTest, description: "first", createdAt: now)
            let duplicate = ServerTask(id: first.id, spaceID: space.id, kind: .accountTest, description: "again", createdAt: now)
            await #expect(throws: (any Error).self) { try await store.createTasks([first, duplicate]) }
            #expect(try await store.task(id: first.id) == nil)
        }
    }

    @Test("API keys are found by hash and stop working when revoked", arguments: TestDatabase.available)
    func apiKeys(database: TestDatabase) async throws {
        try await database.withStore { store in
            let key = APIKey(name: "ci", prefix: "berth_abcdef", hash: String(repeating: "ab", count: 32), createdAt: now)
            _ = try await store.createAPIKey(key)
            #expect(try await store.apiKey(hash: key.hash)?.id == key.id)
            await #expect(throws: BerthError.self) {
                _ = try await store.createAPIKey(APIKey(name: "ci", prefix: "x", hash: "y", createdAt: now))
            }
            // Revoking the last active key is refused (IntegrityStoreTests); another key stays.
            _ = try await store.createAPIKey(APIKey(name: "admin", prefix: "berth_zzzzzz", hash: "z", createdAt: now))
            let revoked = try await store.revokeAPIKey("ci", at: now)
            #expect(revoked.revokedAt == now)
            #expect(try await store.apiKey(hash: key.hash)?.revokedAt == now)
            await #expect(throws: BerthError.self) { _ = try await store.revokeAPIKey("ci", at: now) }
        }
    }
}

/// A space with Staging and Production, an access key account restricted to Production, and a
/// target in Production that uses it.
struct Fixture {
    var space: Space
    var staging: Environment
    var production: Environment
    var account: Account
    var target: ECSClusterTarget

    static func make(_ store: BerthStore, now: Date) async throws -> Fixture {
        let space = try await store.space("default")
        let staging = try await store.createEnvironment(
            Environment(spaceID: space.id, name: "Staging", sortOrder: 0, createdAt: now), position: nil)
        let production = try await store.createEnvironment(
            Environment(spaceID: space.id, name: "Production", sortOrder: 0, createdAt: now), position: nil)
        let account = try await store.createAccount(
            Account(
                spaceID: space.id, kind: .awsAccessKey, name: "Prod keys", description: "for prod",
                environmentIDs: [production.id],
                region: "eu-west-1", accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretKey: SealedSecret(ciphertext: "v1:sealed-bytes"),
                createdAt: now))
        let pool = try await store.defaultWorkerPool(spaceID: space.id)
        let target = try await store.createTarget(
            ECSClusterTarget(
                spaceID: space.id, name: "web-1", environmentIDs: [production.id], roles: ["web"],
                authentication: .account(account.id),
                assumeRole: AssumeRoleSettings(roleARN: "arn:aws:iam::123456789012:role/Deployer", externalID: "ext-123"),
                region: "eu-west-1", clusterName: "prod", workerPoolID: pool.id, createdAt: now))
        return Fixture(space: space, staging: staging, production: production, account: account, target: target)
    }
}
