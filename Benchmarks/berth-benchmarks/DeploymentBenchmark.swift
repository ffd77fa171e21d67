import AsyncHTTPClient
import BerthTestSupport
import Foundation
import NIOCore
import NIOHTTP1

/// Fifty concurrent deployments onto fifty services of one cluster, against the fake ECS (STS is
/// faked too): the wall time against the slowest rollout itself, the DescribeServices calls made
/// while waiting, and the server's CPU time.
struct DeploymentBenchmark {
    struct Results {
        var deployments = 0
        var succeeded = 0
        var wallSeconds = 0.0
        var slowestRolloutSeconds = 0.0
        var describeServicesWhileWaiting = 0
        var largestBatch = 0
        var pollInterval = 0.0
        var cpuSeconds: Double?
    }

    let berth: String
    let count = 50
    let pollInterval = 0.25

    func run() async throws -> Results {
        let fake = FakeECS(settings: .init(rolloutDuration: .seconds(3)))
        let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
        return try await withLocalServer(fake.router) { ecsURL in
            try await withLocalServer(sts.router) { stsURL in
                let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "berth-bench-deploy-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: root) }
                let server = try await BerthServerProcess.start(
                    dataDirectory: root.appendingPathComponent("data"),
                    environment: [
                        "AWS_ENDPOINT_URL_ECS": ecsURL, "AWS_ENDPOINT_URL_STS": stsURL, "AWS_ACCESS_KEY_ID": "AKIABENCH",
                        "AWS_SECRET_ACCESS_KEY": "benchmark-secret-access-key", "AWS_EC2_METADATA_DISABLED": "true",
                        "HOME": root.path,
                    ],
                    arguments: ["--log-level", "error", "--deployment-poll-interval", "\(pollInterval)"], binary: berth)
                return try await measure(server, fake: fake)
            }
        }
    }

    func measure(_ server: BerthServerProcess, fake: FakeECS) async throws -> Results {
        try await server.call(.POST, "/api/spaces/default/environments", ["name": "Production"])
        try await server.call(
            .POST, "/api/spaces/default/targets",
            [
                "name": "bench", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1", "clusterName": "bench",
                "useWorkerCredentials": true,
            ])
        for index in 0..<count {
            let step: [String: Any] = [
                "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                "properties": [
                    "serviceName": "svc-\(index)", "desiredCount": 2,
                    "taskDefinition": [
                        "family": "svc-\(index)", "containerDefinitions": [["name": "app", "image": "bench/app:ok"]],
                    ],
                ],
            ]
            try await server.call(.PUT, "/api/spaces/default/projects/svc-\(index)", ["steps": [step]])
            try await server.call(.POST, "/api/spaces/default/projects/svc-\(index)/releases", ["version": "1"])
        }
        progress("\(count) projects and releases created")
        let cpuBefore = server.cpuSeconds
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    try await server.call(
                        .POST, "/api/spaces/default/deployments",
                        ["project": "svc-\(index)", "release": "1", "environment": "Production"])
                }
            }
            try await group.waitForAll()
        }
        var states: [String] = []
        while true {
            let body = try await server.call(.GET, "/api/tasks?limit=200", nil)
            let items =
                (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
            states = items.filter { $0["kind"] as? String == "deployment" }.compactMap { $0["state"] as? String }
            if states.count == count, !states.contains(where: { $0 == "queued" || $0 == "executing" }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if ProcessInfo.processInfo.environment["BERTH_BENCH_VERBOSE"] != nil {
            let body = try await server.call(.GET, "/api/tasks?limit=200", nil)
            let items =
                (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
            if let last = items.first(where: { $0["kind"] as? String == "deployment" })?["id"] as? String {
                print(try await server.call(.GET, "/api/tasks/\(last)/log", nil))
            }
        }
        var results = Results()
        results.wallSeconds = Date().timeIntervalSince(started)
        results.deployments = count
        results.succeeded = states.filter { $0 == "succeeded" }.count
        results.slowestRolloutSeconds = (fake.rolloutStarts.last ?? started).timeIntervalSince(started) + 3
        // Each step asks once whether its service exists; the rest is the shared poller.
        results.describeServicesWhileWaiting = (fake.calls["DescribeServices"] ?? 0) - count
        results.largestBatch = fake.describeServicesBatches.max() ?? 0
        results.pollInterval = pollInterval
        if let before = cpuBefore, let after = server.cpuSeconds { results.cpuSeconds = after - before }
        return results
    }
}
