import AsyncHTTPClient
import BerthDev
import BerthTestSupport
import Foundation
import NIOCore
import NIOHTTP1

/// A `berth server` with Berth's default settings whose ECS is the fake ECS (STS is faked too),
/// with the environment Production and the target `bench` (role `web`, cluster `bench`).
func withBenchServer<T: Sendable>(
    _ fake: FakeECS, berth: String, _ body: @Sendable @escaping (BerthServerProcess) async throws -> T
) async throws -> T {
    try await withBenchServer(fake, berth: berth) { server, _ in try await body(server) }
}

/// As above; `body` also gets the server's environment (the fake AWS endpoints and keys), for a
/// worker to be given the same.
func withBenchServer<T: Sendable>(
    _ fake: FakeECS, berth: String,
    _ body: @Sendable @escaping (BerthServerProcess, [String: String]) async throws -> T
) async throws -> T {
    let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
    return try await withLocalServer(fake.router) { ecsURL in
        try await withLocalServer(sts.router) { stsURL in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-deploy-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            let environment = [
                "AWS_ENDPOINT_URL_ECS": ecsURL, "AWS_ENDPOINT_URL_STS": stsURL, "AWS_ACCESS_KEY_ID": "AKIABENCH",
                "AWS_SECRET_ACCESS_KEY": "benchmark-secret-access-key", "AWS_EC2_METADATA_DISABLED": "true",
                "HOME": root.path,
            ]
            let server = try await BerthServerProcess.start(
                dataDirectory: root.appendingPathComponent("data"), environment: environment,
                arguments: ["--log-level", "error"], binary: berth)
            try await server.call(.POST, "/api/spaces/default/environments", ["name": "Production"])
            try await server.call(
                .POST, "/api/spaces/default/targets",
                [
                    "name": "bench", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                    "clusterName": "bench", "useWorkerCredentials": true,
                ])
            return try await body(server, environment)
        }
    }
}

extension BerthServerProcess {
    /// Creates the project `name` deploying the service `name` (which rolls out in the fake's
    /// rollout duration) and its release 1.
    func createServiceProject(_ name: String, role: String = "web", wait: Bool = true) async throws {
        let step: [String: Any] = [
            "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": [role],
            "properties": [
                "serviceName": name, "desiredCount": 2, "wait": wait,
                "taskDefinition": ["family": name, "containerDefinitions": [["name": "app", "image": "bench/app:ok"]]],
            ],
        ]
        try await call(.PUT, "/api/spaces/default/projects/\(name)", ["steps": [step]])
        try await call(.POST, "/api/spaces/default/projects/\(name)/releases", ["version": "1"])
    }

    /// Deploys release 1 of `project` to Production; returns the task id.
    func deploy(_ project: String) async throws -> String {
        let body = try await call(
            .POST, "/api/spaces/default/deployments", ["project": project, "release": "1", "environment": "Production"])
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        guard let id = json?["taskId"] as? String else { throw TestSupportError("no task id in \(body)") }
        return id
    }

    /// The state of task `id` once it has finished, watched every 10 ms (so the moment it is seen
    /// finished is at most that late).
    func finishedState(_ id: String) async throws -> String {
        for _ in 0..<60_000 {
            let body = try await call(.GET, "/api/tasks/\(id)", nil)
            let state = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["state"] as? String ?? ""
            if !["queued", "executing"].contains(state) { return state }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestSupportError("the task \(id) did not finish in 10 minutes")
    }
}

/// With default settings: how long after ECS completes a young 1.6 s rollout its deployment ends
/// (one deployment at a time, each a new service on the cluster), and how many DescribeServices
/// calls one watched rollout costs its cluster in its first and second minute.
struct YoungRolloutBenchmark {
    struct Results {
        var rolloutSeconds = 1.6
        var wallSeconds: [Double] = []
        /// When the deployment was seen finished, after ECS had completed the rollout.
        var lateSeconds: [Double] = []
        var succeeded = 0
        var callsFirstMinute = 0
        var callsSecondMinute = 0
    }

    let berth: String
    let rounds = 7

    func run() async throws -> Results {
        var results = Results()
        let fake = FakeECS(settings: .init(rolloutDuration: .milliseconds(1600)))
        results = try await withBenchServer(fake, berth: berth) { server in
            var results = Results()
            for round in 0..<rounds {
                try await server.createServiceProject("young-\(round)")
                let started = Date()
                let id = try await server.deploy("young-\(round)")
                let state = try await server.finishedState(id)
                let ended = Date()
                guard let rolloutStart = fake.rolloutStarts.last else { throw TestSupportError("ECS saw no rollout") }
                results.wallSeconds.append(ended.timeIntervalSince(started))
                results.lateSeconds.append(ended.timeIntervalSince(rolloutStart) - results.rolloutSeconds)
                if state == "succeeded" { results.succeeded += 1 }
            }
            return results
        }
        progress("young rollouts measured; now two minutes of one long rollout")
        let slow = FakeECS(settings: .init(rolloutDuration: .seconds(125)))
        let counts = try await withBenchServer(slow, berth: berth) { server in
            try await server.createServiceProject("long")
            let id = try await server.deploy("long")
            _ = try await server.finishedState(id)
            guard let start = slow.rolloutStarts.last else { throw TestSupportError("ECS saw no rollout") }
            let ages = slow.describeServicesTimes.map { $0.timeIntervalSince(start) }
            // The step's own DescribeServices (does the service exist?) comes before the rollout starts.
            return (ages.filter { $0 >= 0 && $0 < 60 }.count, ages.filter { $0 >= 60 && $0 < 120 }.count)
        }
        results.callsFirstMinute = counts.0
        results.callsSecondMinute = counts.1
        return results
    }
}

/// Fifty concurrent deployments onto fifty services of one cluster, with default settings: the
/// wall time against the slowest rollout itself, the DescribeServices calls made while waiting,
/// and the server's CPU time.
struct DeploymentBenchmark {
    struct Results {
        var deployments = 0
        var succeeded = 0
        var wallSeconds = 0.0
        var slowestRolloutSeconds = 0.0
        var describeServicesWhileWaiting = 0
        var largestBatch = 0
        var cpuSeconds: Double?
    }

    let berth: String
    let count = 50

    func run() async throws -> Results {
        let fake = FakeECS(settings: .init(rolloutDuration: .seconds(3)))
        return try await withBenchServer(fake, berth: berth) { server in
            try await measure(server, fake: fake)
        }
    }

    func measure(_ server: BerthServerProcess, fake: FakeECS) async throws -> Results {
        for index in 0..<count { try await server.createServiceProject("svc-\(index)") }
        progress("\(count) projects and releases created")
        let cpuBefore = server.cpuSeconds
        let started = Date()
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<count { group.addTask { try await server.deploy("svc-\(index)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var states: [String] = []
        for id in ids { states.append(try await server.finishedState(id)) }
        var results = Results()
        results.wallSeconds = Date().timeIntervalSince(started)
        results.deployments = count
        results.succeeded = states.filter { $0 == "succeeded" }.count
        results.slowestRolloutSeconds = (fake.rolloutStarts.last ?? started).timeIntervalSince(started) + 3
        // Each step asks once whether its service exists; the rest is the shared poller.
        results.describeServicesWhileWaiting = (fake.calls["DescribeServices"] ?? 0) - count
        results.largestBatch = fake.describeServicesBatches.max() ?? 0
        if let before = cpuBefore, let after = server.cpuSeconds { results.cpuSeconds = after - before }
        return results
    }
}
