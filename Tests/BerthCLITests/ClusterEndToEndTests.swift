import AWSCore
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Three `berth server` processes on one PostgreSQL, as a team runs them behind a load balancer.
@Suite("Several nodes on one PostgreSQL")
struct ClusterEndToEndTests {
    /// Three nodes, a, b and c, sharing a new database and one master key; each its own data directory.
    struct Cluster {
        let nodes: [String: BerthServerProcess]
        let root: URL
        /// The environment every node runs with (the database, the master key).
        let environment: [String: String]

        static let names = ["a", "b", "c"]
        var a: BerthServerProcess { node("a") }
        var b: BerthServerProcess { node("b") }

        func node(_ name: String) -> BerthServerProcess { nodes[name]! }

        /// The first node other than `name`.
        func other(than name: String) -> BerthServerProcess { node(Self.names.first { $0 != name }!) }

        /// Applies a project `name` whose one step runs `script`, releases it and returns a function
        /// that deploys it through `via` (returning the task id).
        func scriptProject(_ name: String, script: String) async throws {
            let file = root.appendingPathComponent("\(name).yaml")
            try """
            name: \(name)
            steps:
              - name: Run
                type: run-aws-cli-script
                properties:
                  script: "\(script)"
            """.write(to: file, atomically: true, encoding: .utf8)
            let applied = try await a.cli(["project", "apply", "-f", file.path])
            #expect(applied.status == 0, "\(applied.standardError)")
            #expect(try await a.cli(["release", "create", "--project", name, "--version", "1"]).status == 0)
        }

        func deploy(_ project: String, via node: BerthServerProcess) async throws -> String {
            let started = try await node.cli([
                "deploy", "--project", project, "--release", "1", "--environment", "Production", "--output", "json",
            ])
            return try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String, "\(started)")
        }

        /// The task as `via` (node a unless said) shows it.
        func task(_ id: String, via node: BerthServerProcess? = nil) async throws -> [String: Any] {
            let shown = try ServerEndToEndTests.json(
                try await (node ?? a).cli(["task", "show", id, "--output", "json"]).standardOutput)
            return try #require(shown["task"] as? [String: Any], "\(shown)")
        }

        /// The task once it has ended; fails the test when it does not end within `seconds`.
        func finished(_ id: String, via node: BerthServerProcess? = nil, within seconds: Int = 60) async throws -> [String: Any] {
            for _ in 0..<(seconds * 5) {
                let task = try await task(id, via: node)
                if let state = task["state"] as? String, !["queued", "executing"].contains(state) { return task }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("the task \(id) did not end within \(seconds) s")
            throw CancellationError()
        }
    }

    /// A cluster whose nodes call moto (STS, IAM) and `fake` (ECS) with moto's administrator keys.
    static func withCluster(fake: FakeECS, _ body: (Cluster) async throws -> Void) async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let admin = try await moto.createAdministrator(named: "berth-admin")
        try await withLocalServer(fake.router) { fakeURL in
            var aws = moto.environment.values
            aws["AWS_ENDPOINT_URL_ECS"] = fakeURL
            aws["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = fakeURL
            aws["AWS_ACCESS_KEY_ID"] = admin.accessKeyID
            aws["AWS_SECRET_ACCESS_KEY"] = admin.secretAccessKey
            try await withCluster(adding: aws, body)
        }
    }

    static func withCluster(
        adding extraEnvironment: [String: String] = [:], arguments: [String] = [], _ body: (Cluster) async throws -> Void
    ) async throws {
        guard let adminURL = ProcessInfo.processInfo.environment["BERTH_TEST_POSTGRES_URL"] else {
            try #require(
                ProcessInfo.processInfo.environment["BERTH_REQUIRE_POSTGRES"] == nil,
                "BERTH_REQUIRE_POSTGRES is set but BERTH_TEST_POSTGRES_URL is not (run through scripts/with-postgres.sh)")
            return
        }
        try await ThrowawayPostgresDatabase.with(adminURL: adminURL) { databaseURL in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-cluster-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let environment = extraEnvironment.merging([
                "HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true", "BERTH_DATABASE_URL": databaseURL,
                "BERTH_MASTER_KEY": Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString(),
            ]) { $1 }
            let flags = ["--task-cap", "2", "--task-lease", "5"] + arguments
            var nodes: [String: BerthServerProcess] = [:]
            do {
                for name in Cluster.names {
                    nodes[name] = try await BerthServerProcess.start(
                        dataDirectory: root.appendingPathComponent(name), environment: environment, apiKey: nodes["a"]?.apiKey,
                        arguments: flags + ["--node-name", name])
                }
                let cluster = Cluster(nodes: nodes, root: root, environment: environment)
                #expect(try await cluster.a.cli(["environment", "create", "Production"]).status == 0)
                try await body(cluster)
            } catch {
                for node in nodes.values { _ = try? await node.killNow() }
                throw error
            }
            for node in nodes.values { _ = try? await node.terminate() }
        }
    }

    @Test(
        "Sixty deployments queued through one node run exactly once each, spread over the nodes; cancel reaches the node that runs it; a drained node idles and is not ready"
    )
    func sharedWork() async throws {
        // The default lease: sixty deployments on three nodes load a two-core machine enough that a
        // short lease (renewed every few seconds) can run out under a live node, which then loses its task.
        try await Self.withCluster(arguments: ["--task-lease", "15"]) { cluster in
            // Node a is woken at once by what is queued through it, b polls: the work spreads when
            // more is queued at once than a's cap (2) lets it hold.
            try await cluster.scriptProject("Work", script: "sleep 0.3; echo worked")
            var ids: [String] = []
            // Four CLI processes at a time: each is a full start of the berth binary, and the rest
            // of the suite shares the two cores.
            for _ in 0..<15 {
                ids += try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<4 { group.addTask { try await cluster.deploy("work", via: cluster.a) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(Set(ids).count == 60)
            var nodes: [String: Int] = [:]
            for id in ids {
                let task = try await cluster.finished(id)
                #expect(task["state"] as? String == "succeeded", "\(task)")
                nodes[task["node"] as? String ?? "none", default: 0] += 1
                let log = try await cluster.a.cli(["task", "log", id]).standardOutput
                #expect(log.components(separatedBy: "Running the script").count == 2, "run once: \(log)")
            }
            #expect(nodes.keys.count >= 2 && Set(nodes.keys).isSubset(of: Cluster.names), "the work was shared: \(nodes)")

            // Cancel through the node that does not run it.
            try await cluster.scriptProject("Long", script: "echo started; sleep 6; echo finished")
            let long = try await cluster.deploy("long", via: cluster.a)
            var runner: String?
            for _ in 0..<100 where runner == nil {
                let task = try await cluster.task(long)
                if task["state"] as? String == "executing" { runner = task["node"] as? String }
                try await Task.sleep(for: .milliseconds(100))
            }
            let holder = try #require(runner, "the long deployment never started")
            let other = cluster.other(than: holder)
            let cancel = try await other.cli(["task", "cancel", long])
            #expect(cancel.status == 0, "\(cancel.standardError)")
            #expect(cancel.standardOutput.contains("executing (cancel requested)"), "\(cancel.standardOutput)")
            #expect(cancel.standardOutput.contains("Node") && cancel.standardOutput.contains(holder), "\(cancel.standardOutput)")
            let cancelled = try await cluster.finished(long, within: 10)
            #expect(cancelled["state"] as? String == "cancelled", "\(cancelled)")

            // Drain a: it is not ready, and everything runs on b.
            let drained = try await cluster.b.cli(["node", "drain", "a"])
            #expect(drained.status == 0, "\(drained.standardError)")
            #expect(drained.standardOutput.contains("draining"), "\(drained.standardOutput)")
            let (_, readiness) = try await URLSession.shared.data(from: URL(string: cluster.a.url + "/readyz")!)
            #expect((readiness as? HTTPURLResponse)?.statusCode == 503)
            var drainedIDs: [String] = []
            for _ in 0..<3 { drainedIDs.append(try await cluster.deploy("work", via: cluster.a)) }
            for id in drainedIDs {
                let task = try await cluster.finished(id)
                #expect(task["node"] as? String != "a", "a drained node claimed \(id)")
            }
            let listed = try await cluster.a.cli(["node", "list"])
            #expect(listed.standardOutput.contains("draining, alive"), "\(listed.standardOutput)")
            #expect(try await cluster.a.cli(["node", "undrain", "a"]).status == 0)
            let (_, ready) = try await URLSession.shared.data(from: URL(string: cluster.a.url + "/readyz")!)
            #expect((ready as? HTTPURLResponse)?.statusCode == 200)
        }
    }

    @Test(
        "A node with another master key refuses to start; a node killed while a script runs has its deployment adopted when its lease runs out, and the script is not run again: it ends on the built-in worker of another node, or fails with the killed node's worker"
    )
    func takeOver() async throws {
        try await Self.withCluster(arguments: ["--job-lease", "5"]) { cluster in
            var stranger = cluster.environment
            stranger["BERTH_MASTER_KEY"] = Data(repeating: 7, count: 32).base64EncodedString()
            do {
                _ = try await BerthServerProcess.start(
                    dataDirectory: cluster.root.appendingPathComponent("stranger"), environment: stranger,
                    apiKey: cluster.a.apiKey,
                    arguments: ["--node-name", "c"])
                Issue.record("a node with another master key started")
            } catch {
                #expect(
                    "\(error)".contains("This node's master key cannot open the secrets in the database"), "\(error)")
            }
            // A second process named like a live node stops, saying why, instead of taking its tasks
            // or its built-in worker (whose registration stays the live node's).
            func builtInA() async throws -> String? {
                let listed = try await cluster.a.cli(["worker", "list", "--output", "json"])
                return try ServerEndToEndTests.array(listed).first { $0["name"] as? String == "builtin-a" }?["registeredAt"]
                    as? String
            }
            var registered: String?
            for _ in 0..<100 {
                registered = try await builtInA()
                if registered != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let before = try #require(registered, "node a's built-in worker never registered")
            // It stops gracefully, exiting non-zero — never by a crash (a cancelled HTTP server with a
            // connection waiting trapped in NIO) — before or after answering its first health check.
            var twinLog: String
            do {
                let twin = try await BerthServerProcess.start(
                    dataDirectory: cluster.root.appendingPathComponent("twin"), environment: cluster.environment,
                    apiKey: cluster.a.apiKey, arguments: ["--node-name", "a"])
                let status = try await twin.waitForExit(within: 15)
                twinLog = twin.log
                #expect(status != 0, "\(twinLog)")
            } catch let error as TestSupportError where error.description.hasPrefix("berth server exited") {
                twinLog = error.description
            }
            #expect(twinLog.contains("Another server node named 'a' is running on this database"), "\(twinLog)")
            #expect(!twinLog.contains("Fatal error") && !twinLog.contains("Program crashed"), "\(twinLog)")
            #expect(try await builtInA() == before, "the twin registered node a's built-in worker again")
            try await cluster.scriptProject("Long", script: "echo started; sleep 6; echo finished")
            try await Task.sleep(for: .seconds(1))
            let id = try await cluster.deploy("long", via: cluster.b)
            var holder: String?
            for _ in 0..<100 where holder == nil {
                let task = try await cluster.task(id)
                if task["state"] as? String == "executing" { holder = task["node"] as? String }
                try await Task.sleep(for: .milliseconds(100))
            }
            let victim = try #require(holder)
            let asked = cluster.other(than: victim)
            // Killed once the script runs (its first line is in the task log), not before it starts.
            for _ in 0..<100 {
                if try await asked.cli(["task", "log", id]).standardOutput.contains("started") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            _ = try await cluster.node(victim).killNow()
            // Task and job leases 5 s: adopted within a few seconds, never left executing.
            for _ in 0..<200 {
                let task = try await cluster.task(id, via: asked)
                if task["state"] as? String != "executing" {
                    let survivor = try #require(task["node"] as? String)
                    #expect(survivor != victim && Cluster.names.contains(survivor), "\(task)")
                    let log = try await asked.cli(["task", "log", id]).standardOutput
                    // The script ran on some node's built-in worker: the killed node's went with it.
                    let worker = try #require(log.firstMatch(of: /The worker (builtin-\w+) of the pool/)?.output.1, "\(log)")
                    if worker == "builtin-\(victim)" {
                        #expect(task["state"] as? String == "failed", "\(task) \(log)")
                        #expect(
                            (task["errorMessage"] as? String)?.contains(
                                "the worker builtin-\(victim) stopped answering while the script ran; a script is not run a second time"
                            ) == true, "\(task)")
                    } else {
                        #expect(task["state"] as? String == "succeeded", "\(task)")
                        #expect(log.contains("finished"), "\(log)")
                    }
                    #expect(
                        log.contains(
                            "The node \(victim) stopped answering while it ran this task (its lease ran out). Node \(survivor) took it over"
                        ), "\(log)")
                    #expect(log.components(separatedBy: "started").count == 2, "the script ran once: \(log)")
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("the task of the killed node was never adopted")
        }
    }

    @Test("With the health-check schedule on every node, each target is checked once per interval, not once per node")
    func scheduleRunsOncePerInterval() async throws {
        try await Self.withCluster(arguments: ["--health-check-interval", "3"]) { cluster in
            // No credentials anywhere: each check ends at once (unavailable), which is all this counts.
            // The window opens before the target exists: on a loaded machine the CLI may return
            // seconds after the server created it, and the schedule checks it from then on.
            let started = ContinuousClock.now
            #expect(
                try await cluster.a.cli([
                    "target", "create", "ecs", "--name", "prod", "--environment", "Production", "--role", "web", "--region",
                    "eu-west-1", "--cluster", "prod", "--worker-credentials",
                ]).status == 0)
            try await Task.sleep(for: .seconds(10))
            let listed = try await cluster.b.cli(["task", "list", "--output", "json"])
            let checks = try ServerEndToEndTests.array(listed).filter { $0["kind"] as? String == "health-check" }
            let elapsed = (ContinuousClock.now - started).timeInterval
            // Once per 3 s over the time observed (plus the run at the start); three nodes each
            // running the schedule would have made about three times as many.
            let allowed = Int(elapsed / 3) + 2
            #expect((1...allowed).contains(checks.count), "\(checks.count) checks in \(elapsed) s: \(checks)")
        }
    }

    @Test(
        "A node killed while it watches a rollout: another node adopts the deployment, watches the same rollout, and it succeeds with one revision and one service"
    )
    func rolloutContinuesOnAnotherNode() async throws {
        // The rollout lasts until the test ends it, once another node watches it.
        let fake = FakeECS(settings: FakeECS.Settings(rolloutDuration: .seconds(3600)))
        try await Self.withCluster(fake: fake) { cluster in
            #expect(
                try await cluster.a.cli([
                    "target", "create", "ecs", "--name", "prod", "--environment", "Production", "--role", "web", "--region",
                    "eu-west-1", "--cluster", "prod", "--worker-credentials",
                ]).status == 0)
            let file = cluster.root.appendingPathComponent("web.yaml")
            try """
            name: Web
            steps:
              - name: Deploy web
                type: deploy-ecs-service
                targetRoles: [web]
                properties:
                  serviceName: web
                  desiredCount: 2
                  timeoutSeconds: 120
                  taskDefinition:
                    family: web
                    containerDefinitions: [{name: app, image: "shop/web:placeholder", memory: 256}]
            """.write(to: file, atomically: true, encoding: .utf8)
            #expect(try await cluster.a.cli(["project", "apply", "-f", file.path]).status == 0)
            #expect(
                try await cluster.a.cli(["release", "create", "--project", "Web", "--version", "1", "--image", "app=shop/web:ok"])
                    .status == 0)
            let id = try await cluster.deploy("web", via: cluster.a)
            var holder: String?
            var watcher: String?
            for _ in 0..<300 where holder == nil {
                let task = try await cluster.task(id)
                let log = try await cluster.a.cli(["task", "log", id]).standardOutput
                if log.contains("Waiting for web to run web:1") {
                    holder = task["node"] as? String
                    watcher = log.firstMatch(of: /The worker builtin-(\w+) of the pool/).map { String($0.output.1) }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let victim = try #require(holder, "the rollout was never watched")
            // The job may run on another node's built-in worker than the node holding the task: both go.
            let watching = try #require(watcher, "no built-in worker took the job")
            let victims = Set([victim, watching])
            let survivor = cluster.node(try #require(Cluster.names.first { !victims.contains($0) }))
            for name in victims.sorted() { _ = try await cluster.node(name).killNow() }
            // Adopted within the lease (5 s) and a poll (1 s); the benchmark measures how long it takes.
            _ = try await survivor.taskLog(id, containing: "was already changed to web:1", within: 60)
            fake.finishRollouts()

            let task = try await cluster.finished(id, via: survivor, within: 60)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            #expect((task["node"] as? String).map { !victims.contains($0) && Cluster.names.contains($0) } == true, "\(task)")
            let log = try await survivor.cli(["task", "log", id]).standardOutput
            #expect(log.contains("(its lease ran out). Node"), "\(log)")
            #expect(log.contains("was already changed to web:1"), "\(log)")
            #expect(log.contains("Done: the deployment is COMPLETED with 2 of 2 tasks running web:1."), "\(log)")
            #expect(fake.taskDefinitions(family: "web").count == 1, "\(fake.taskDefinitions(family: "web"))")
            #expect(fake.calls["CreateService"] == 1)
            #expect(fake.calls["UpdateService"] == nil)
        }
    }
}
