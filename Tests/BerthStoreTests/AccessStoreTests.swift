import BerthDomain
import BerthStore
import Crypto
import Foundation
import SQLKit
import Testing

/// Users, teams, roles and grants as the store keeps them, and the policy they resolve to.
@Suite("Users, teams and grants")
struct AccessStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(
        "The migration makes the administrator a System administrator, whose keys every earlier key becomes; a user's policy is their teams' grants",
        arguments: TestDatabase.available)
    func grantsResolve(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.dateFirstRecords(at: now)
            let administrator = try #require(try await store.user(id: User.administratorID))
            #expect(administrator.username == "administrator" && administrator.createdAt == now)
            #expect(try await store.accessPolicy(userID: administrator.id).allows(.userManage, at: .server))

            let space = try await store.space(Space.defaultName)
            let alice = try await store.createUser(User(username: "alice", displayName: "Alice", createdAt: now))
            #expect(try await store.accessPolicy(userID: alice.id) == .none)
            let team = try await store.createTeam(Team(name: "Developers", createdAt: now))
            try await store.addTeamMember(teamID: team.id, userID: alice.id)
            try await store.addTeamMember(teamID: team.id, userID: alice.id)
            try await store.grant(
                AccessGrant(
                    teamID: team.id, roleID: Role.deployer.id, spaceID: space.id, environmentIDs: ["env-dev", "env-staging"]),
                at: now)
            let custom = try await store.createRole(
                Role(id: "role-auditor", name: "Auditor", description: "", permissions: [.auditView]), at: now)
            try await store.grant(AccessGrant(teamID: team.id, roleID: custom.id, spaceID: nil), at: now)
            let policy = try await store.accessPolicy(userID: alice.id)
            let dev = AccessScope(spaceID: space.id, projectID: "web", environmentID: "env-dev")
            let prod = AccessScope(spaceID: space.id, projectID: "web", environmentID: "env-prod")
            #expect(policy.allows(.deploymentCreate, at: dev) && !policy.allows(.deploymentCreate, at: prod))
            #expect(policy.allows(.auditView, at: .server) && !policy.allows(.userManage, at: .server))

            await #expect(throws: BerthError.self) {
                _ = try await store.createUser(User(username: "alice", displayName: "Again", createdAt: now))
            }
            await #expect(throws: BerthError.self) {
                _ = try await store.createRole(Role(id: "role-x", name: "Deployer", description: "", permissions: []), at: now)
            }
            try await store.setUserDisabled(id: alice.id, true)
            #expect(try await store.user(id: alice.id)?.isDisabled == true)
        }
    }
}

/// The audit chain as the store writes it, on both databases, with writers on two stores at once.
@Suite("Audit chain in the store")
struct AuditStoreTests {
    @Test(
        "Concurrent changes each append one event; the chain verifies; an edited event is found",
        arguments: TestDatabase.available)
    func chain(database: TestDatabase) async throws {
        try await database.withStores(database == .postgres ? 2 : 1) { stores in
            let key = SymmetricKey(size: .bits256)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    let store = stores[index % stores.count]
                    group.addTask {
                        let draft = AuditEvent(
                            sequence: 0, occurredAt: Date(), actor: "administrator", keyName: "k", address: nil,
                            action: "createUser", record: "/users", details: .object([("username", .string("user\(index)"))]))
                        try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: draft, key: key)) {
                            _ = try await store.createUser(User(username: "user\(index)", displayName: "U", createdAt: Date()))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await stores[0].auditEvents(.init(limit: 100))
            #expect(events.map(\.sequence) == Array((1...20).reversed()))
            let verified = try await stores[0].verifyAudit(key: key)
            #expect(verified.checked == 20 && verified.broken == nil)
            #expect(try await stores[0].verifyAudit(key: SymmetricKey(size: .bits256)).broken?.sequence == 1)
            // Deleting the oldest events does not hide them: the chain no longer starts at 1.
            try await stores[0].database.transaction { db in
                try await db.raw("DELETE FROM audit_events WHERE sequence <= 2").run()
            }
            #expect(try await stores[0].verifyAudit(key: key).broken?.sequence == 3)
        }
    }

    /// Writes one event per day, the first `days` days ago.
    static func eventsOverDays(_ days: Int, _ store: BerthStore, key: SymmetricKey, now: Date, names: String = "team")
        async throws
    {
        for day in 0..<days {
            let draft = AuditEvent(
                sequence: 0, occurredAt: now.addingTimeInterval(Double(day - days) * 86_400), actor: "administrator",
                keyName: "k", address: nil, action: "createTeam", record: "teams/\(day)",
                details: .object([("name", .string("\(names)\(day)"))]))
            try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: draft, key: key)) {
                _ = try await store.createTeam(Team(name: "\(names)\(day)", createdAt: now))
            }
        }
    }

    @Test(
        "A retention cut removes the old events with an event that says so; the chain verifies from the cut; a forged anchor or a later gap is found",
        arguments: TestDatabase.available)
    func retention(database: TestDatabase) async throws {
        try await database.withStore { store in
            let key = SymmetricKey(size: .bits256)
            let now = Date()
            try await Self.eventsOverDays(10, store, key: key, now: now)
            // Older than 4 days: the events of days -10 … -5, sequences 1 … 6.
            let removed = try await store.cutAudit(olderThan: now.addingTimeInterval(-4 * 86_400), key: key, at: now)
            #expect(removed == 6)
            let events = try await store.auditEvents(.init(limit: 100))
            #expect(events.map(\.sequence) == Array((7...11).reversed()))
            let cut = try #require(events.first)
            #expect(cut.action == "cutAuditLog" && cut.actor == nil, "\(cut)")
            #expect(cut.details.rendered().contains("\"removed\":6"), "\(cut.details.rendered())")
            let verified = try await store.verifyAudit(key: key)
            #expect(verified.isIntact && verified.checked == 5 && verified.startsAfter == 6, "\(verified)")
            // Nothing older than the retention: a second cut removes nothing and writes nothing.
            #expect(try await store.cutAudit(olderThan: now.addingTimeInterval(-4 * 86_400), key: key, at: now) == 0)
            #expect(try await store.auditEvents(.init(limit: 100)).count == 5)
            // Someone with the database hides more history by moving the anchor: its seal does not match.
            try await store.database.transaction { db in
                try await db.raw("UPDATE audit_anchor SET sequence = 8").run()
                try await db.raw("DELETE FROM audit_events WHERE sequence <= 8").run()
            }
            let forged = try await store.verifyAudit(key: key)
            #expect(!forged.isIntact && forged.brokenAnchor, "\(forged)")
        }
    }

    @Test(
        "A write that finds nothing to change (a task another node finished) leaves no event", arguments: TestDatabase.available)
    func noChangeNoEvent(database: TestDatabase) async throws {
        try await database.withStore { store in
            let key = SymmetricKey(size: .bits256)
            let space = try await store.space(Space.defaultName)
            let task = ServerTask(spaceID: space.id, kind: .healthCheck, description: "Check", createdAt: Date())
            try await store.createTasks([task])
            let draft = AuditEvent(
                sequence: 0, occurredAt: Date(), actor: nil, keyName: nil, address: nil, action: "finishTask",
                record: "tasks/\(task.id)", details: .object([]))
            // Never started (another node's, say): finishing it changes nothing.
            let finished = try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: draft, key: key)) {
                try await store.finishTask(id: task.id, outcome: TaskOutcome(state: .succeeded), at: Date())
            }
            #expect(finished == false)
            #expect(try await store.auditEvents(.init()).isEmpty, "an event for a finish that did not happen")
            // A cancel of a cancelled task: nothing either.
            _ = try await store.requestCancel(taskID: task.id, at: Date())
            let cancel = AuditEvent(
                sequence: 0, occurredAt: Date(), actor: "someone", keyName: "k", address: nil, action: "cancelTask",
                record: "tasks/\(task.id)", details: .object([]))
            let again = try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: cancel, key: key)) {
                try await store.requestCancel(taskID: task.id, at: Date())
            }
            #expect(again == .alreadyFinished(.cancelled))
            #expect(try await store.auditEvents(.init()).isEmpty)
        }
    }

    @Test("An event deleted after the retention cut breaks the chain where it was", arguments: TestDatabase.available)
    func gapAfterTheCut(database: TestDatabase) async throws {
        try await database.withStore { store in
            let key = SymmetricKey(size: .bits256)
            let now = Date()
            try await Self.eventsOverDays(6, store, key: key, now: now)
            #expect(try await store.cutAudit(olderThan: now.addingTimeInterval(-3 * 86_400), key: key, at: now) == 3)
            try await store.database.transaction { db in
                try await db.raw("DELETE FROM audit_events WHERE sequence = 5").run()
            }
            let verified = try await store.verifyAudit(key: key)
            #expect(!verified.isIntact && verified.broken?.sequence == 6 && verified.checked == 1, "\(verified)")
        }
    }

    @Test("Cut after cut: the chain goes on from the newest anchor", arguments: TestDatabase.available)
    func chainGoesOnFromTheAnchor(database: TestDatabase) async throws {
        try await database.withStore { store in
            let key = SymmetricKey(size: .bits256)
            let now = Date()
            try await Self.eventsOverDays(3, store, key: key, now: now)
            #expect(try await store.cutAudit(olderThan: now, key: key, at: now) == 3)
            // Only the cut's own event is left; remove it too, as a later cut would.
            #expect(try await store.cutAudit(olderThan: now.addingTimeInterval(1), key: key, at: now.addingTimeInterval(2)) == 1)
            try await Self.eventsOverDays(1, store, key: key, now: now.addingTimeInterval(86_400 * 2), names: "later")
            let verified = try await store.verifyAudit(key: key)
            #expect(verified.isIntact && verified.startsAfter == 4 && verified.checked == 2, "\(verified)")
            #expect(try await store.auditEvents(.init(limit: 10)).map(\.sequence) == [6, 5])
        }
    }
}
