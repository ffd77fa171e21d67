import BerthDev
import BerthDomain
import BerthStore
import BerthTestSupport
import Foundation
import Logging
import NIOHTTP1

/// External workers against the fake ECS: how long a job waits between being queued and being
/// claimed by an idle worker (read from the server's own record of both moments), and fifty
/// concurrent deployments through two workers, against the slowest rollout itself.
struct WorkerBenchmark {
    struct Results {
        var dispatchMilliseconds: [Double] = []
        var deployments = 0
        var succeeded = 0
        var wallSeconds = 0.0
        var slowestRolloutSeconds = 0.0
        var jobsPerWorker: [String: Int] = [:]
    }

    let berth: String
    let count = 50
    let rounds = 21

    func run() async throws -> Results {
        let fake = FakeECS(settings: .init(rolloutDuration: .seconds(3)))
        return try await withBenchServer(fake, berth: berth) { server, environment in
            try await measure(server, environment: environment, fake: fake)
        }
    }

    func measure(_ server: BerthServerProcess, environment: [String: String], fake: FakeECS) async throws -> Results {
        try await server.call(.POST, "/api/spaces/default/worker-pools", ["name": "bench-workers"])
        let made = try await server.call(.POST, "/api/spaces/default/worker-pools/bench-workers/registration-token", nil)
        guard let token = (try JSONSerialization.jsonObject(with: Data(made.utf8)) as? [String: Any])?["token"] as? String else {
            throw TestSupportError("no registration token in \(made)")
        }
        try await server.call(
            .POST, "/api/spaces/default/targets",
            [
                "name": "remote", "environments": ["Production"], "roles": ["remote"], "region": "eu-west-1",
                "clusterName": "bench", "useWorkerCredentials": true, "workerPool": "bench-workers",
            ])
        let root = server.dataDirectory.deletingLastPathComponent()
        var workers: [BerthWorkerProcess] = []
        for name in ["bench-a", "bench-b"] {
            let worker = try await BerthWorkerProcess.start(
                server: server, pool: "bench-workers", name: name, token: token, directory: root.appendingPathComponent(name),
                environment: environment, arguments: ["--concurrency", "32", "--log-level", "error"], binary: berth)
            workers.append(worker)
        }
        // Both workers are polling once each has claimed nothing for a moment.
        try await Task.sleep(for: .seconds(2))
        // The server's own record of when each job was queued and claimed, read beside it (WAL).
        let store = try await BerthStore.open(
            .sqlite(path: server.dataDirectory.appendingPathComponent("berth.sqlite").path),
            logger: Logger(label: "berth.bench"))
        do {
            let results = try await measure(server, store: store, fake: fake)
            await store.close()
            for worker in workers { try await worker.terminate() }
            return results
        } catch {
            await store.close()
            throw error
        }
    }

    func measure(_ server: BerthServerProcess, store: BerthStore, fake: FakeECS) async throws -> Results {
        var results = Results()
        progress("job dispatch to idle workers")
        for round in 0..<rounds {
            try await server.createServiceProject("dispatch-\(round)", role: "remote", wait: false)
            let id = try await server.deploy("dispatch-\(round)")
            // A deployment that does not end within a minute says why.
            _ = try await server.taskLog(id, containing: "Task ", within: 60)
            guard let job = try await store.stepJobs(taskID: id).first, let claimed = job.claimedAt else {
                throw TestSupportError("the deployment \(id) left no claimed job")
            }
            results.dispatchMilliseconds.append(claimed.timeIntervalSince(job.createdAt) * 1000)
        }

        progress("\(count) concurrent deployments through two workers")
        for index in 0..<count { try await server.createServiceProject("remote-\(index)", role: "remote") }
        let startedRollouts = fake.rolloutStarts.count
        let started = Date()
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<count { group.addTask { try await server.deploy("remote-\(index)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var states: [String] = []
        for id in ids { states.append(try await server.finishedState(id)) }
        results.wallSeconds = Date().timeIntervalSince(started)
        results.deployments = count
        results.succeeded = states.filter { $0 == "succeeded" }.count
        let rollouts = fake.rolloutStarts.dropFirst(startedRollouts)
        results.slowestRolloutSeconds = (rollouts.last ?? started).timeIntervalSince(started) + 3
        for id in ids {
            for job in try await store.stepJobs(taskID: id) { results.jobsPerWorker[job.workerName ?? "?", default: 0] += 1 }
        }
        return results
    }
}

func printWorkerResults(_ results: WorkerBenchmark.Results) {
    print(
        String(
            format:
                "job dispatch to an idle external worker:  %10.1f ms median (p90 %.1f ms, worst %.1f ms; target ≤ 100 ms at p50)",
            median(results.dispatchMilliseconds), percentile(results.dispatchMilliseconds, 0.9),
            results.dispatchMilliseconds.max() ?? 0))
    print(
        String(
            format:
                "50 concurrent deployments, two workers:   %10.2f s wall (slowest rollout itself %.2f s; target ≤ +0.5 s)",
            results.wallSeconds, results.slowestRolloutSeconds))
    print(
        "  succeeded:                               \(results.succeeded) of \(results.deployments); jobs per worker: "
            + results.jobsPerWorker.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
}
