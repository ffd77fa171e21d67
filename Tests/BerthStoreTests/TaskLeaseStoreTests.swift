import BerthDomain
import BerthStore
import Foundation
import SQLKit
import Testing

/// Tasks claimed by nodes from the database: each exactly once, held by a lease, taken over when
/// their node is gone, cancelled through the database.
@Suite("Task claims and leases")
struct TaskLeaseStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func queue(_ count: Int, in store: BerthStore) async throws -> [ServerTask] {
        let space = try await store.space("default")
        let tasks = (0..<count).map {
            ServerTask(
                spaceID: space.id, kind: .accountTest, description: "task \($0)",
                createdAt: now.addingTimeInterval(Double($0) / 1000))
        }
        for batch in stride(from: 0, to: tasks.count, by: 250) {
            try await store.createTasks(Array(tasks[batch..<min(batch + 250, tasks.count)]))
        }
        return tasks
    }

    @Test(
        "1,000 queued tasks, claimed by 8 claimers at once (on PostgreSQL through two pools): every task exactly once, oldest first",
        arguments: TestDatabase.available)
    func claimsAreExclusive(database: TestDatabase) async throws {
        // One pool on SQLite, as its one server per data directory has: two pools on one file
        // would wait for each other inside SQLite's busy wait, holding threads every test shares.
        try await database.withStores(database == .postgres ? 2 : 1) { stores in
            let tasks = try await queue(1000, in: stores[0])
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for claimer in 0..<8 {
                    let store = stores[claimer % stores.count]
                    let owner = TaskOwner(node: "node-\(claimer)")
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let claimed = try await store.claimTasks(
                                for: owner, limit: 7, at: now, leaseUntil: now.addingTimeInterval(15))
                            if claimed.isEmpty { return mine }
                            #expect(claimed.allSatisfy { $0.state == .executing && $0.ownerNode == owner.node })
                            mine += claimed.map(\.id)
                        }
                    }
                }
                var all: [[String]] = []
                for try await claimed in group { all.append(claimed) }
                return all
            }
            let claimed = claims.flatMap(\.self)
            #expect(claimed.count == 1000, "a task was claimed twice or not at all")
            #expect(Set(claimed) == Set(tasks.map(\.id)))
            #expect(claims.filter { !$0.isEmpty }.count > 1, "the claimers shared the work")
            // Each claimer took its tasks in the order they were queued.
            let order = Dictionary(uniqueKeysWithValues: tasks.enumerated().map { ($1.id, $0) })
            for mine in claims { #expect(mine.map { order[$0]! } == mine.map { order[$0]! }.sorted()) }
        }
    }

    @Test(
        "A node that lost its lease cannot log, finish or renew the task; its restart takes its old tasks over at once",
        arguments: TestDatabase.available)
    func staleOwners(database: TestDatabase) async throws {
        try await database.withStore { store in
            let tasks = try await queue(2, in: store)
            let a = TaskOwner(node: "a")
            let b = TaskOwner(node: "b")
            let claimed = try await store.claimTasks(for: a, limit: 1, at: now, leaseUntil: now.addingTimeInterval(15))
            #expect(claimed.map(\.id) == [tasks[0].id])
            #expect(
                try await store.renewLeases(of: a, ids: [tasks[0].id], until: now.addingTimeInterval(20)).map(\.id) == [
                    tasks[0].id
                ])
            try await store.appendLogs(
                [(tasks[0].id, TaskLogLine(sequence: 1, time: now, level: .info, message: "by a"))], owner: a)

            let first = StepProgress.Key(stepIndex: 0, targetID: "web")
            var registered = StepProgress()
            registered.taskDefinitionARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7"
            #expect(try await store.recordStepProgress(registered, at: first, taskID: tasks[0].id, owner: a, time: now))

            // Before the lease runs out, nobody else takes the task.
            let early = try await store.adoptAbandonedTasks(
                by: b, limit: 5, at: now.addingTimeInterval(19), leaseUntil: now.addingTimeInterval(34)
            ) { _, _ in "gone" }
            #expect(early.isEmpty)
            let taken = try await store.adoptAbandonedTasks(
                by: b, limit: 5, at: now.addingTimeInterval(21), leaseUntil: now.addingTimeInterval(36)
            ) { previous, _ in "The node \(previous ?? "?") stopped; b took it over." }
            #expect(taken.map(\.task.id) == [tasks[0].id])
            #expect(taken.first?.lastLogSequence == 2)
            let adoptedTask = try #require(try await store.task(id: tasks[0].id))
            #expect(adoptedTask.state == .executing)
            #expect(adoptedTask.ownerNode == "b")
            // What a recorded is b's to carry on from.
            #expect(try await store.stepProgress(taskID: tasks[0].id)[first]?.taskDefinitionARN == registered.taskDefinitionARN)
            #expect(try await store.stepProgress(taskID: tasks[0].id)[first]?.recordedBy == "a")

            // The old holder comes back: everything it tries is refused.
            #expect(try await store.renewLeases(of: a, ids: [tasks[0].id], until: now.addingTimeInterval(40)).isEmpty)
            try await store.appendLogs(
                [(tasks[0].id, TaskLogLine(sequence: 3, time: now, level: .info, message: "late"))], owner: a)
            var forged = StepProgress()
            forged.taskDefinitionARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:8"
            #expect(try await store.recordStepProgress(forged, at: first, taskID: tasks[0].id, owner: a, time: now) == false)
            #expect(
                try await store.recordStepProgress(
                    forged, at: StepProgress.Key(stepIndex: 1, targetID: nil), taskID: tasks[0].id, owner: a, time: now) == false)
            let finished = try await store.finishTask(
                id: tasks[0].id, outcome: TaskOutcome(state: .succeeded), at: now.addingTimeInterval(41), owner: a)
            #expect(finished == false)
            #expect(try await store.task(id: tasks[0].id)?.state == .executing)
            #expect(
                try await store.taskLog(taskID: tasks[0].id).map(\.message) == ["by a", "The node a stopped; b took it over."])
            let progress = try await store.stepProgress(taskID: tasks[0].id)
            #expect(progress.count == 1)
            #expect(progress[first]?.taskDefinitionARN == registered.taskDefinitionARN)
            // The new holder records; its record replaces the old one.
            #expect(try await store.recordStepProgress(forged, at: first, taskID: tasks[0].id, owner: b, time: now))
            #expect(try await store.stepProgress(taskID: tasks[0].id)[first]?.recordedBy == "b")

            // A restart of b (same name, new run) adopts what its previous run held, lease or not.
            let claimedByB = try await store.claimTasks(for: b, limit: 5, at: now, leaseUntil: now.addingTimeInterval(3600))
            #expect(claimedByB.map(\.id) == [tasks[1].id])
            let restarted = TaskOwner(node: "b")
            let adopted = try await store.adoptAbandonedTasks(
                by: restarted, limit: 5, at: now.addingTimeInterval(1), leaseUntil: now.addingTimeInterval(16)
            ) { previous, _ in previous == "b" ? "restarted" : "other" }
            #expect(Set(adopted.map(\.task.id)) == [tasks[0].id, tasks[1].id])
            #expect(try await store.taskLog(taskID: tasks[1].id).last?.message == "restarted")
            #expect(try await store.recordStepProgress(forged, at: first, taskID: tasks[0].id, owner: b, time: now) == false)
        }
    }

    @Test(
        "A node shutting down hands its task over: it can write nothing more, any node adopts it at once, and handovers never use up the adoptions",
        arguments: TestDatabase.available)
    func handover(database: TestDatabase) async throws {
        try await database.withStore { store in
            let task = try #require(try await queue(1, in: store).first)
            var holder = TaskOwner(node: "a")
            _ = try await store.claimTasks(for: holder, limit: 1, at: now, leaseUntil: now.addingTimeInterval(15))
            // A stranger cannot hand over what it does not hold.
            let line = TaskLogLine(sequence: 1, time: now, level: .warning, message: "handing over")
            #expect(try await store.handOverTask(id: task.id, owner: TaskOwner(node: "b"), at: now, line: line) == false)
            for round in 1...5 {
                let handed = TaskLogLine(
                    sequence: try await store.taskLog(taskID: task.id).count + 1, time: now, level: .warning,
                    message: "handed over by \(holder.node)")
                #expect(try await store.handOverTask(id: task.id, owner: holder, at: now, line: handed))
                // The old holder: no renewal, no line, no finish.
                #expect(try await store.renewLeases(of: holder, ids: [task.id], until: now.addingTimeInterval(60)).isEmpty)
                try await store.appendLogs(
                    [(task.id, TaskLogLine(sequence: 999, time: now, level: .info, message: "late"))], owner: holder)
                #expect(
                    try await store.finishTask(id: task.id, outcome: TaskOutcome(state: .succeeded), at: now, owner: holder)
                        == false)
                // Adopted at once (long before the old lease of 15 s would have run out), as handed over.
                let next = TaskOwner(node: "n\(round)")
                let adopted = try await store.adoptAbandonedTasks(
                    by: next, limit: 5, at: now.addingTimeInterval(1), leaseUntil: now.addingTimeInterval(16), maximumAdoptions: 3
                ) { previous, fate in "\(fate) from \(previous ?? "?")" }
                #expect(adopted.map(\.task.id) == [task.id], "round \(round)")
                #expect(try await store.taskLog(taskID: task.id).last?.message == "handedOver from \(holder.node)")
                holder = next
            }
            #expect(try await store.taskLog(taskID: task.id).allSatisfy { $0.message != "late" })
            #expect(try await store.task(id: task.id)?.state == .executing)
        }
    }

    @Test(
        "Only the tasks a node still works on are renewed: one it gave up on runs out and is taken over",
        arguments: TestDatabase.available)
    func givenUpTasksRunOut(database: TestDatabase) async throws {
        try await database.withStore { store in
            let tasks = try await queue(2, in: store)
            let a = TaskOwner(node: "a")
            #expect(try await store.claimTasks(for: a, limit: 2, at: now, leaseUntil: now.addingTimeInterval(15)).count == 2)
            // a still works on the first task only (its outcome for the second could not be written).
            let held = try await store.renewLeases(of: a, ids: [tasks[0].id], until: now.addingTimeInterval(30))
            #expect(held.map(\.id) == [tasks[0].id])
            let taken = try await store.adoptAbandonedTasks(
                by: TaskOwner(node: "b"), limit: 5, at: now.addingTimeInterval(16), leaseUntil: now.addingTimeInterval(31)
            ) { _, _ in "gone" }
            #expect(taken.map(\.task.id) == [tasks[1].id])
            #expect(try await store.task(id: tasks[0].id)?.state == .executing)
        }
    }

    @Test(
        "Cancel through the database: a queued task at once, an executing one flagged for its node, a finished one as it was",
        arguments: TestDatabase.available)
    func cancelRequests(database: TestDatabase) async throws {
        try await database.withStore { store in
            let tasks = try await queue(3, in: store)
            let node = TaskOwner(node: "c")
            _ = try await store.claimTasks(for: node, limit: 1, at: now, leaseUntil: now.addingTimeInterval(15))
            #expect(try await store.requestCancel(taskID: tasks[1].id, at: now) == .cancelled)
            #expect(try await store.task(id: tasks[1].id)?.state == .cancelled)
            #expect(try await store.requestCancel(taskID: tasks[0].id, at: now) == .requested(node: "c"))
            #expect(try await store.task(id: tasks[0].id)?.cancelRequested == true)
            #expect(try await store.cancelRequests(of: node) == [tasks[0].id])
            #expect(
                try await store.renewLeases(of: node, ids: [tasks[0].id, tasks[2].id], until: now.addingTimeInterval(20)) == [
                    HeldTask(id: tasks[0].id, cancelRequested: true)
                ])
            #expect(
                try await store.finishTask(id: tasks[0].id, outcome: TaskOutcome(state: .cancelled), at: now, owner: node))
            #expect(try await store.requestCancel(taskID: tasks[0].id, at: now) == .alreadyFinished(.cancelled))
            #expect(try await store.cancelRequests(of: node).isEmpty)
            await #expect(throws: BerthError.self) { try await store.requestCancel(taskID: "task-none", at: now) }
        }
    }

    @Test(
        "Heartbeats list the nodes; a draining node claims nothing; a cluster job runs once per interval, on one node",
        arguments: TestDatabase.available)
    func nodesAndClusterJobs(database: TestDatabase) async throws {
        try await database.withStores(2) { stores in
            _ = try await queue(1, in: stores[0])
            func beat(_ name: String, _ store: BerthStore) async throws -> Bool {
                try await store.recordHeartbeat(
                    ClusterNode(
                        name: name, host: "host-\(name)", version: "1.0", startedAt: now, lastSeenAt: now, running: 2,
                        taskCap: 100,
                        draining: false),
                    instance: "run-\(name)")
            }
            #expect(try await beat("a", stores[0]) == false)
            #expect(try await beat("b", stores[1]) == false)
            #expect(try await stores[0].listNodes().map(\.name) == ["a", "b"])
            #expect(try await stores[0].setDraining(node: "a", true).draining)
            #expect(try await beat("a", stores[0]), "a heartbeat keeps the operator's drain")
            let a = TaskOwner(node: "a")
            #expect(try await stores[0].claimTasks(for: a, limit: 10, at: now, leaseUntil: now.addingTimeInterval(15)).isEmpty)
            _ = try await stores[1].setDraining(node: "a", false)
            #expect(try await stores[0].claimTasks(for: a, limit: 10, at: now, leaseUntil: now.addingTimeInterval(15)).count == 1)
            await #expect(throws: BerthError.self) { try await stores[0].setDraining(node: "nobody", true) }

            // The first ask starts the clock; then exactly one of two nodes runs each due round.
            let interval = Duration.seconds(3600)
            #expect(try await stores[0].claimDueRun(of: "health-checks", every: interval, node: "a", at: now) == false)
            #expect(try await stores[1].claimDueRun(of: "health-checks", every: interval, node: "b", at: now) == false)
            for round in 1...3 {
                let at = now.addingTimeInterval(3600 * Double(round) + 1)
                async let first = stores[0].claimDueRun(of: "health-checks", every: interval, node: "a", at: at)
                async let second = stores[1].claimDueRun(of: "health-checks", every: interval, node: "b", at: at)
                let runs = try await [first, second]
                #expect(runs.filter(\.self).count == 1, "round \(round): \(runs)")
            }
        }
    }
}

/// Nodes wake each other when tasks are queued.
@Suite("Queued-task notifications")
struct QueuedTaskNotificationTests {
    @Test(
        "On PostgreSQL a node listening for queued tasks is woken when another node queues one",
        arguments: TestDatabase.available.filter { $0 == .postgres })
    func wakeUps(database: TestDatabase) async throws {
        try await database.withStores(2) { stores in
            let space = try await stores[1].space("default")
            let (wakes, wake) = AsyncStream.makeStream(of: Void.self)
            let woken = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await stores[0].listenForQueuedTasks { wake.yield() }
                    return false
                }
                // LISTEN may start after the first task is queued: queue one every 200 ms.
                group.addTask {
                    for index in 0..<25 {
                        try await stores[1].createTasks([
                            ServerTask(spaceID: space.id, kind: .accountTest, description: "wake \(index)", createdAt: Date())
                        ])
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    return false
                }
                group.addTask {
                    for await _ in wakes { return true }
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(woken, "no notification reached the listening node within 5 s")
        }
    }
}

/// Every node must have the database's master key.
@Suite("The master key check")
struct MasterKeyCheckTests {
    static func box(_ byte: UInt8) throws -> SecretBox {
        SecretBox(masterKey: try MasterKey(base64: Data(repeating: byte, count: 32).base64EncodedString(), source: "test"))
    }

    @Test(
        "The first key sets the check; another key is refused; on a database from before the check, a key that cannot open its secrets is refused",
        arguments: TestDatabase.available)
    func check(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.verifyMasterKey(try Self.box(1))
            try await store.verifyMasterKey(try Self.box(1))
            await #expect(throws: BerthError.self) { try await store.verifyMasterKey(try Self.box(2)) }

            // As before version 7: no check value, an OIDC key sealed under key 1.
            let sealed = try Self.box(1).seal("private", for: .oidcSigningKey(keyID: "key-1"))
            try await store.database.withConnection { db in
                try await db.raw("DELETE FROM settings").run()
                try await db.raw(
                    """
                    INSERT INTO oidc_signing_keys (id, kid, algorithm, public_jwk, private_key, created_at, activates_at, expires_at) \
                    VALUES ('key-1', 'kid-1', 'RS256', '{}', \(bind: sealed.ciphertext), 1, 1, 2)
                    """
                ).run()
            }
            do {
                try await store.verifyMasterKey(try Self.box(2))
                Issue.record("a node with another key became the check's key")
            } catch let error as BerthError {
                #expect(error.message.contains("This node's master key cannot open the secrets in the database"))
            }
            try await store.verifyMasterKey(try Self.box(1))
            await #expect(throws: BerthError.self) { try await store.verifyMasterKey(try Self.box(2)) }
        }
    }
}
