import AWSRules
import BerthDev
import BerthDomain
import BerthStore
import BerthTestSupport
import Foundation
import Logging
import SQLKit

/// Several nodes on one PostgreSQL (`BERTH_TEST_POSTGRES_URL`; `make bench` starts a throwaway
/// one): how fast tasks are claimed and finished, what an idle node costs the database, how long a
/// killed node's task waits before another node takes it over.
struct ClusterBenchmark {
    let berth: String
    let adminURL: String

    struct Results {
        /// Tasks claimed and finished per second by the store alone (no task work), for 1 and 3 nodes.
        var claimsPerSecond: [(nodes: Int, rate: Double)] = []
        /// Database transactions per second of idle server processes, per node, for 1 and 3 nodes.
        var idleTransactionsPerNode: [(nodes: Int, rate: Double)] = []
        /// Seconds from `kill -9` of the node running a deployment to its adoption by another node.
        var takeoverSeconds: Double
        var lease: Double
    }

    let logger = Logger(label: "berth.bench.cluster")

    func run() async throws -> Results {
        var results = Results(takeoverSeconds: 0, lease: 15)
        for nodes in [1, 3] {
            results.claimsPerSecond.append((nodes, try await withDatabase { try await claimRate(nodes: nodes, url: $0) }))
        }
        for nodes in [1, 3] {
            results.idleTransactionsPerNode.append(
                (nodes, try await withDatabase { try await idleLoad(nodes: nodes, url: $0) }))
        }
        results.takeoverSeconds = try await withDatabase { try await takeover(url: $0) }
        return results
    }

    /// A new database for `body`, dropped afterwards.
    func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        try await ThrowawayPostgresDatabase.with(adminURL: adminURL, body)
    }

    /// 3,000 queued tasks; `nodes` stores (a pool each, as nodes have) claim 20 at a time and finish
    /// each at once, until none is left.
    func claimRate(nodes: Int, url: String) async throws -> Double {
        var stores: [BerthStore] = []
        for _ in 0..<nodes { stores.append(try await BerthStore.open(.postgres(url: url), logger: logger)) }
        do {
            let rate = try await claimRate(stores)
            for store in stores { await store.close() }
            return rate
        } catch {
            for store in stores { await store.close() }
            throw error
        }
    }

    func claimRate(_ stores: [BerthStore]) async throws -> Double {
        let space = try await stores[0].space("default")
        let now = Date()
        let tasks = (0..<3000).map {
            ServerTask(spaceID: space.id, kind: .accountTest, description: "bench \($0)", createdAt: now)
        }
        for batch in stride(from: 0, to: tasks.count, by: 500) {
            try await stores[0].createTasks(Array(tasks[batch..<batch + 500]))
        }
        let started = ContinuousClock.now
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, store) in stores.enumerated() {
                // Four claimers per node, as a node's claim loop and its finishing tasks overlap.
                for worker in 0..<4 {
                    let owner = TaskOwner(node: "node-\(index)", instance: "run-\(index)-\(worker)")
                    group.addTask {
                        var count = 0
                        while true {
                            let claimed = try await store.claimTasks(
                                for: owner, limit: 20, at: Date(), leaseUntil: Date().addingTimeInterval(15))
                            if claimed.isEmpty { return count }
                            for task in claimed {
                                guard
                                    try await store.finishTask(
                                        id: task.id, outcome: TaskOutcome(state: .succeeded), at: Date(), owner: owner)
                                else { throw TestSupportError("a claimed task could not be finished") }
                                count += 1
                            }
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        guard finished == tasks.count else { throw TestSupportError("\(finished) of \(tasks.count) tasks finished") }
        return Double(finished) / (ContinuousClock.now - started).timeInterval
    }

    /// Transactions per second per node while `nodes` idle servers (no tasks) run for 15 s.
    func idleLoad(nodes: Int, url: String) async throws -> Double {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-idle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let environment = [
            "HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true", "BERTH_DATABASE_URL": url,
            "BERTH_MASTER_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
        ]
        var servers: [BerthServerProcess] = []
        for index in 0..<nodes {
            servers.append(
                try await BerthServerProcess.start(
                    dataDirectory: root.appendingPathComponent("node-\(index)"), environment: environment,
                    apiKey: servers.first?.apiKey, arguments: ["--node-name", "node-\(index)"], binary: berth))
        }
        let probe = try Database(.postgres(url: url), logger: logger)
        func transactions() async throws -> Int64 {
            try await probe.withConnection { db in
                try await db.raw(
                    "SELECT xact_commit + xact_rollback AS total FROM pg_stat_database WHERE datname = current_database()"
                ).first()?.decode(column: "total", as: Int64.self) ?? 0
            }
        }
        try await Task.sleep(for: .seconds(3))
        let before = try await transactions()
        try await Task.sleep(for: .seconds(15))
        let after = try await transactions()
        await probe.shutdown()
        for server in servers { _ = try await server.terminate() }
        // The two probe transactions are not the nodes'; PostgreSQL's statistics lag by up to a
        // second, which the 15 s window makes small.
        return Double(after - before - 1) / 15 / Double(nodes)
    }

    /// Two nodes with the default lease; a script deployment runs on one, which is killed.
    func takeover(url: String) async throws -> Double {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-takeover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let environment = [
            "HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true", "BERTH_DATABASE_URL": url,
            "BERTH_MASTER_KEY": Data(repeating: 2, count: 32).base64EncodedString(),
        ]
        let a = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("a"), environment: environment, arguments: ["--node-name", "a"],
            binary: berth)
        let b = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("b"), environment: environment, apiKey: a.apiKey,
            arguments: ["--node-name", "b"], binary: berth)
        do {
            let seconds = try await takeover(a, b, root: root)
            for server in [a, b] { _ = try? await server.killNow() }
            return seconds
        } catch {
            for server in [a, b] { _ = try? await server.killNow() }
            throw error
        }
    }

    func takeover(_ a: BerthServerProcess, _ b: BerthServerProcess, root: URL) async throws -> Double {
        let file = root.appendingPathComponent("long.yaml")
        try """
        name: Long
        steps:
          - {name: Run, type: run-aws-cli-script, properties: {script: "sleep 600"}}
        """.write(to: file, atomically: true, encoding: .utf8)
        for command in [
            ["environment", "create", "Production"], ["project", "apply", "-f", file.path],
            ["release", "create", "--project", "Long", "--version", "1"],
        ] {
            let result = try await a.cli(command)
            guard result.status == 0 else { throw TestSupportError("\(command): \(result.standardError)") }
        }
        let started = try await a.cli([
            "deploy", "--project", "Long", "--release", "1", "--environment", "Production", "--output", "json",
        ])
        guard
            let id = (try JSONSerialization.jsonObject(with: Data(started.standardOutput.utf8)) as? [String: Any])?["taskId"]
                as? String
        else { throw TestSupportError("no task: \(started.standardOutput)") }
        func task(via server: BerthServerProcess) async throws -> [String: Any] {
            let shown = try await server.cli(["task", "show", id, "--output", "json"]).standardOutput
            return ((try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])?["task"] as? [String: Any])
                ?? [:]
        }
        var holder: String?
        for _ in 0..<100 where holder == nil {
            let current = try await task(via: a)
            if current["state"] as? String == "executing" { holder = current["node"] as? String }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard let holder else { throw TestSupportError("the deployment never started") }
        let (victim, survivor) = holder == "a" ? (a, b) : (b, a)
        _ = try await victim.killNow()
        let killed = ContinuousClock.now
        while ContinuousClock.now - killed < .seconds(120) {
            // Adopted: the other node holds it (its script step then fails, as a script is not run twice).
            let current = try await task(via: survivor)
            if current["node"] as? String != holder || current["state"] as? String != "executing" {
                return (ContinuousClock.now - killed).timeInterval
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("the killed node's task was not adopted within 120 s")
    }
}
