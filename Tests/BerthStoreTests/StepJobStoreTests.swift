import BerthDomain
import BerthStore
import Foundation
import Testing

/// Step jobs for external workers, as the store keeps them: each claimed once, only by a worker of
/// its pool, only while its deployment runs; a worker's writes count only while it holds the job.
@Suite("Step jobs and workers")
struct StepJobStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// `count` deployment tasks held by a node, each with one job queued in `pool`.
    func queueJobs(_ count: Int, pool: WorkerPool, in store: BerthStore) async throws -> [StepJobRecord] {
        let tasks = (0..<count).map {
            ServerTask(
                spaceID: pool.spaceID, kind: .deployment, description: "deployment \($0)",
                createdAt: now.addingTimeInterval(Double($0) / 1000))
        }
        try await store.createTasks(tasks)
        let claimed = try await store.claimTasks(
            for: TaskOwner(node: "node"), limit: count, at: now, leaseUntil: now.addingTimeInterval(60))
        #expect(claimed.count == count)
        var jobs: [StepJobRecord] = []
        for (index, task) in tasks.enumerated() {
            let job = StepJobRecord(
                taskID: task.id, key: StepProgress.Key(stepIndex: 0, targetID: "target-\(index)"), poolID: pool.id,
                sealedJob: "sealed-\(index)", createdAt: now.addingTimeInterval(Double(index) / 1000))
            try await store.enqueueStepJob(job)
            jobs.append(job)
        }
        return jobs
    }

    func pool(_ name: String, in store: BerthStore) async throws -> WorkerPool {
        let space = try await store.space("default")
        return try await store.createWorkerPool(WorkerPool(spaceID: space.id, name: name, isDefault: false, createdAt: now))
    }

    @Test(
        "200 jobs claimed by 6 workers at once (on PostgreSQL through two stores): each exactly once, oldest first; another pool's workers get none",
        arguments: TestDatabase.available)
    func claimsAreExclusive(database: TestDatabase) async throws {
        // One store on SQLite, as its one server per data directory has (see TaskLeaseStoreTests).
        try await database.withStores(database == .postgres ? 2 : 1) { stores in
            let fleet = try await pool("fleet", in: stores[0])
            let other = try await pool("other", in: stores[0])
            let jobs = try await queueJobs(200, pool: fleet, in: stores[0])
            #expect(
                try await stores[stores.count - 1].claimStepJob(
                    for: Worker(poolID: other.id, name: "stranger", version: "1", registeredAt: now),
                    at: now, leaseUntil: now.addingTimeInterval(30)) == nil)
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for index in 0..<6 {
                    let store = stores[index % stores.count]
                    let worker = Worker(poolID: fleet.id, name: "w-\(index)", version: "1", registeredAt: now)
                    group.addTask {
                        var mine: [String] = []
                        while let job = try await store.claimStepJob(
                            for: worker, at: now, leaseUntil: now.addingTimeInterval(30))
                        {
                            #expect(job.state == .running && job.workerID == worker.id && job.workerName == worker.name)
                            mine.append(job.id)
                        }
                        return mine
                    }
                }
                var all: [[String]] = []
                for try await mine in group { all.append(mine) }
                return all
            }
            let claimed = claims.flatMap(\.self)
            #expect(claimed.count == 200, "a job was claimed twice or not at all")
            #expect(Set(claimed) == Set(jobs.map(\.id)))
            #expect(claims.filter { !$0.isEmpty }.count > 1, "the workers shared the jobs")
            let order = Dictionary(uniqueKeysWithValues: jobs.enumerated().map { ($1.id, $0) })
            for mine in claims { #expect(mine.map { order[$0]! } == mine.map { order[$0]! }.sorted()) }
        }
    }

    @Test(
        "A worker's log, progress and outcome count only while it holds the job; a cancelled or ended deployment's jobs are not handed out",
        arguments: TestDatabase.available)
    func leases(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fleet = try await pool("fleet", in: store)
            let jobs = try await queueJobs(3, pool: fleet, in: store)
            let a = Worker(poolID: fleet.id, name: "a", version: "1", registeredAt: now)
            let b = Worker(poolID: fleet.id, name: "b", version: "1", registeredAt: now)
            let lease = now.addingTimeInterval(30)
            let held = try #require(try await store.claimStepJob(for: a, at: now, leaseUntil: lease))
            #expect(held.id == jobs[0].id)
            let line = StepJobLogLine(level: .info, section: "1. Deploy · web", message: "hello")
            #expect(
                try await store.appendStepJobLog(id: held.id, workerID: a.id, lines: [line, line], leaseUntil: lease) == false)
            // Another worker writes nothing to a job it does not hold.
            #expect(try await store.appendStepJobLog(id: held.id, workerID: b.id, lines: [line], leaseUntil: lease) == nil)
            #expect(try await store.stepJobLog(id: held.id, after: 0).map(\.0) == [1, 2])
            // Relayed lines are forgotten; the next ones still come after them.
            try await store.deleteStepJobLog(id: held.id, through: 2)
            #expect(try await store.appendStepJobLog(id: held.id, workerID: a.id, lines: [line], leaseUntil: lease) == false)
            #expect(try await store.stepJobLog(id: held.id, after: 0).map(\.0) == [3])
            var progress = StepProgress()
            progress.taskDefinitionARN = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"
            #expect(
                try await store.recordStepProgress(progress, forJob: held.id, workerID: b.id, leaseUntil: lease, time: now)
                    == false)
            #expect(try await store.recordStepProgress(progress, forJob: held.id, workerID: a.id, leaseUntil: lease, time: now))
            let recorded = try await store.stepProgress(taskID: held.taskID)[held.key]
            #expect(recorded?.taskDefinitionARN == progress.taskDefinitionARN)
            #expect(recorded?.recordedBy == "worker a")

            // The node following the job takes it away (its lease ran out): nothing more of a counts.
            // Not while the lease holds, nor as "never claimed": only once it has run out.
            #expect(try await store.abandonStepJob(id: held.id, at: now.addingTimeInterval(29), if: .leaseExpired) == false)
            #expect(try await store.abandonStepJob(id: held.id, at: now.addingTimeInterval(31), if: .stillQueued) == false)
            #expect(try await store.abandonStepJob(id: held.id, at: now.addingTimeInterval(31), if: .leaseExpired))
            #expect(try await store.renewStepJob(id: held.id, workerID: a.id, until: lease) == nil)
            #expect(try await store.appendStepJobLog(id: held.id, workerID: a.id, lines: [line], leaseUntil: lease) == nil)
            #expect(
                try await store.recordStepProgress(progress, forJob: held.id, workerID: a.id, leaseUntil: lease, time: now)
                    == false)
            #expect(try await store.finishStepJob(id: held.id, workerID: a.id, sealedOutcome: "x", at: now) == false)
            #expect(try await store.stepJob(id: held.id)?.state == .abandoned)

            // A cancel requested for the second job's deployment: it is not handed out; the third is.
            _ = try await store.requestCancel(taskID: jobs[1].taskID, at: now)
            let next = try await store.claimStepJob(for: b, at: now, leaseUntil: lease)
            #expect(next?.id == jobs[2].id)
            // A cancel requested after the claim reaches the worker at its next renewal.
            _ = try await store.requestCancel(taskID: jobs[2].taskID, at: now)
            #expect(try await store.renewStepJob(id: jobs[2].id, workerID: b.id, until: lease) == true)
            #expect(try await store.finishStepJob(id: jobs[2].id, workerID: b.id, sealedOutcome: "sealed", at: now))
            #expect(try await store.stepJob(id: jobs[2].id)?.sealedOutcome == "sealed")
            #expect(try await store.unfinishedStepJob(taskID: jobs[2].taskID, key: jobs[2].key) == nil)
            #expect(try await store.unfinishedStepJob(taskID: jobs[1].taskID, key: jobs[1].key)?.id == jobs[1].id)
            // Its deployment ends: the queued job is abandoned with it.
            #expect(try await store.finishTask(id: jobs[1].taskID, outcome: TaskOutcome(state: .cancelled), at: now))
            #expect(try await store.stepJob(id: jobs[1].id)?.state == .abandoned)
            #expect(try await store.unfinishedStepJob(taskID: jobs[1].taskID, key: jobs[1].key) == nil)
        }
    }

    @Test(
        "Registration: a pool's token registers workers into that pool only; a replaced or revoked token, or a name taken in the pool, is refused; deleting the worker ends its credential",
        arguments: TestDatabase.available)
    func registration(database: TestDatabase) async throws {
        try await database.withStore { store in
            let fleet = try await pool("fleet", in: store)
            let other = try await pool("other", in: store)
            let first = WorkerRegistrationToken(poolID: fleet.id, prefix: "berthwr_aaaaaa", hash: "hash-1", createdAt: now)
            try await store.replaceRegistrationToken(first)
            let (worker, joined) = try await store.registerWorker(
                tokenHash: "hash-1", poolReference: "Fleet", name: "w-1", credentialHash: "cred-1", version: "0.1.0", at: now)
            #expect(joined.id == fleet.id && worker.poolID == fleet.id)
            #expect(try await store.worker(credentialHash: "cred-1")?.id == worker.id)

            func refused(_ hash: String, pool: String, name: String) async throws -> BerthError? {
                do {
                    _ = try await store.registerWorker(
                        tokenHash: hash, poolReference: pool, name: name, credentialHash: "cred-\(name)", version: "1", at: now)
                    return nil
                } catch let error as BerthError {
                    return error
                }
            }
            #expect(try await refused("hash-1", pool: "fleet", name: "W 1")?.code == .conflict)
            #expect(try await refused("hash-1", pool: other.name, name: "w-2")?.code == .unauthorized)
            try await store.replaceRegistrationToken(
                WorkerRegistrationToken(poolID: fleet.id, prefix: "berthwr_bbbbbb", hash: "hash-2", createdAt: now))
            #expect(try await refused("hash-1", pool: "fleet", name: "w-2")?.code == .unauthorized)
            #expect(try await store.registrationToken(poolID: fleet.id)?.hash == "hash-2")
            #expect(try await store.revokeRegistrationToken(poolID: fleet.id, at: now))
            #expect(try await refused("hash-2", pool: "fleet", name: "w-2")?.code == .unauthorized)
            #expect(try await store.revokeRegistrationToken(poolID: fleet.id, at: now) == false)

            // The pool cannot go while it has a worker; the worker's credential ends with it.
            await #expect(throws: BerthError.self) { try await store.deleteWorkerPool(id: fleet.id) }
            try await store.deleteWorker(id: worker.id, at: now)
            #expect(try await store.worker(credentialHash: "cred-1") == nil)
            try await store.deleteWorkerPool(id: fleet.id)
        }
    }
}
