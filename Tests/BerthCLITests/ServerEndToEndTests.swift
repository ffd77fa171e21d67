import AWSCore
import AWSECS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// The real `berth server` and CLI against moto with signature checking on.
@Suite("berth server end to end")
struct ServerEndToEndTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// The JSON array a command printed; the failure shows what it printed instead.
    static func array(_ result: BerthProcess.Result) throws -> [[String: Any]] {
        let parsed = try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
        return try #require(parsed as? [[String: Any]], "\(result.standardOutput)\(result.standardError)")
    }

    @Test("Account tests, health checks, assume role with an external ID and worker credentials; the secret stays hidden")
    func accountsAndHealthChecks() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let worker = try await moto.createAdministrator(named: "berth-admin")
        let deployer = try await moto.createAdministrator(named: "berth-deployer")
        let roleARN = try await moto.createRole(
            named: "ClusterOps",
            trustPolicy: """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/berth-deployer"},\
                "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ops-7"}}}]}
                """)
        try await moto.enableAuthentication()
        let ecs = ECSClient(client: try moto.client(for: .ecs, credentials: worker))
        for name in ["prod", "doomed"] { _ = try await ecs.createCluster(ECS.CreateClusterRequest(clusterName: name)) }

        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var serverEnvironment = moto.environment.values
        serverEnvironment["AWS_ACCESS_KEY_ID"] = worker.accessKeyID
        serverEnvironment["AWS_SECRET_ACCESS_KEY"] = worker.secretAccessKey
        serverEnvironment["AWS_EC2_METADATA_DISABLED"] = "true"
        serverEnvironment["HOME"] = root.path
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: serverEnvironment)
        var outputs: [String] = []
        func berth(_ arguments: [String], stdin: String? = nil) async throws -> BerthProcess.Result {
            let result = try await server.cli(arguments, standardInput: stdin)
            outputs += [result.standardOutput, result.standardError]
            return result
        }

        #expect(try await berth(["environment", "create", "Production"]).status == 0)
        let secret = deployer.secretAccessKey
        let created = try await berth(
            [
                "account", "create", "aws", "--name", "deployer", "--access-key", deployer.accessKeyID, "--secret-key-stdin",
                "--region", "us-east-1", "--environment", "Production", "--output", "json",
            ], stdin: secret + "\n")
        #expect(created.status == 0, "\(created.standardError)")
        #expect((try Self.json(created.standardOutput)["secretKey"] as? [String: Any])?["hasValue"] as? Bool == true)
        #expect(
            try await berth(
                ["account", "create", "aws", "--name", "wrong", "--access-key", deployer.accessKeyID, "--secret-key-stdin"],
                stdin: "not-the-secret-at-all\n"
            ).status == 0)

        // Save and test: green with the right secret, red with the AWS error otherwise.
        let good = try await berth(["account", "test", "deployer"])
        #expect(good.status == 0, "\(good.standardOutput)\(good.standardError)")
        #expect(good.standardOutput.contains("arn:aws:iam::123456789012:user/berth-deployer"))
        let bad = try await berth(["account", "test", "wrong"])
        #expect(bad.status == 1)
        #expect(bad.standardOutput.contains("SignatureDoesNotMatch"), "\(bad.standardOutput)")

        func target(_ name: String, _ extra: [String]) async throws {
            let result = try await berth(
                [
                    "target", "create", "ecs", "--name", name, "--environment", "Production", "--role", "web", "--region",
                    "us-east-1",
                ]
                    + extra)
            #expect(result.status == 0, "\(name): \(result.standardError)")
        }
        try await target("healthy", ["--cluster", "prod", "--account", "deployer"])
        try await target("doomed", ["--cluster", "doomed", "--account", "deployer"])
        try await target("missing", ["--cluster", "nowhere", "--account", "deployer"])
        try await target("bad-keys", ["--cluster", "prod", "--account", "wrong"])
        try await target(
            "assumed", ["--cluster", "prod", "--account", "deployer", "--assume-role-arn", roleARN, "--external-id", "ops-7"])
        try await target(
            "wrong-external-id",
            ["--cluster", "prod", "--account", "deployer", "--assume-role-arn", roleARN, "--external-id", "ops-8"])
        try await target("worker", ["--cluster", "prod", "--worker-credentials"])
        _ = try await ecs.deleteCluster(ECS.DeleteClusterRequest(cluster: "doomed"))

        let healthy = try await berth(["target", "health-check", "healthy"])
        #expect(healthy.status == 0, "\(healthy.standardOutput)")
        #expect(healthy.standardOutput.contains("Healthy: The cluster 'prod' is ACTIVE"))
        let doomed = try await berth(["target", "health-check", "doomed"])
        #expect(doomed.status == 1)
        #expect(doomed.standardOutput.contains("Unhealthy: The cluster 'doomed' is INACTIVE"), "\(doomed.standardOutput)")
        let missing = try await berth(["target", "health-check", "missing"])
        #expect(missing.status == 1)
        #expect(missing.standardOutput.contains("Unavailable: The cluster 'nowhere' was not found"), "\(missing.standardOutput)")
        let badKeys = try await berth(["target", "health-check", "bad-keys"])
        #expect(badKeys.status == 1)
        #expect(badKeys.standardOutput.contains("Unavailable: DescribeClusters failed: "), "\(badKeys.standardOutput)")
        #expect(badKeys.standardOutput.contains("SignatureDoesNotMatch"))
        let assumed = try await berth(["target", "health-check", "assumed"])
        #expect(assumed.status == 0, "\(assumed.standardOutput)")
        #expect(assumed.standardOutput.contains("then assume role \(roleARN)"), "\(assumed.standardOutput)")
        let refused = try await berth(["target", "health-check", "wrong-external-id"])
        #expect(refused.status == 1)
        #expect(refused.standardOutput.contains("AccessDenied"), "\(refused.standardOutput)")
        let fromWorker = try await berth(["target", "health-check", "worker"])
        #expect(fromWorker.status == 0, "\(fromWorker.standardOutput)")
        #expect(fromWorker.standardOutput.contains("environment variables"), "\(fromWorker.standardOutput)")

        // All at once: one task per target, concurrently; the verdicts match the single checks.
        let all = try await berth(["target", "health-check", "--all", "--output", "json"])
        #expect(all.status == 1)
        let verdicts = try Self.array(all)
        #expect(
            verdicts.compactMap { $0["healthStatus"] as? String }.sorted() == [
                "healthy", "healthy", "healthy", "unavailable", "unavailable", "unavailable", "unhealthy",
            ])
        let listed = try await berth(["target", "list", "--output", "json"])
        let targets = try Self.array(listed)
        let health = Dictionary(
            uniqueKeysWithValues: targets.map {
                ($0["name"] as? String ?? "", ($0["health"] as? [String: Any])?["status"] as? String ?? "")
            })
        #expect(health["doomed"] == "unhealthy" && health["healthy"] == "healthy" && health["missing"] == "unavailable")

        // The secret is nowhere: not in the CLI's output, the task logs, the server log or the database's bytes.
        let tasks = try await berth(["task", "list", "--limit", "100", "--output", "json"])
        let taskIDs = try Self.array(tasks).compactMap { $0["id"] as? String }
        #expect(taskIDs.count == 16)
        for id in taskIDs { _ = try await berth(["task", "show", id, "--output", "json"]) }
        try await server.terminate()
        let database = try FileManager.default.contentsOfDirectory(at: server.dataDirectory, includingPropertiesForKeys: nil)
        #expect(database.contains { $0.lastPathComponent == "berth.sqlite" })
        let haystacks =
            outputs + [server.log] + database.map { String(decoding: (try? Data(contentsOf: $0)) ?? Data(), as: UTF8.self) }
        let needles = [secret, Data(secret.utf8).base64EncodedString()]
        for needle in needles {
            #expect(!haystacks.contains { $0.contains(needle) }, "the secret leaked")
        }
        #expect(outputs.joined().contains(deployer.accessKeyID))
    }

    @Test(
        "Worker pools from the CLI: create, list (the default first), a pool a target uses and the default pool are not deleted; a second server on the same SQLite data directory refuses to start"
    )
    func workerPools() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let environment = ["HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true"]
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: environment)
        do {
            let twin = try await BerthServerProcess.start(
                dataDirectory: root.appendingPathComponent("data"), environment: environment, apiKey: server.apiKey)
            _ = try await twin.killNow()
            Issue.record("a second server started on the same data directory")
        } catch {
            #expect("\(error)".contains("Another berth server (pid "), "\(error)")
            #expect("\(error)".contains("is running on the data directory"), "\(error)")
        }
        let created = try await server.cli(["worker-pool", "create", "private-vpc", "--output", "json"])
        #expect(created.status == 0, "\(created.standardError)")
        #expect(try Self.json(created.standardOutput)["slug"] as? String == "private-vpc")
        #expect(try await server.cli(["worker-pool", "create", "Private VPC"]).status == 1, "a second pool of the same slug")
        let listed = try Self.array(try await server.cli(["worker-pool", "list", "--output", "json"]))
        #expect(listed.map { $0["name"] as? String } == ["Default Worker Pool", "private-vpc"], "\(listed)")
        let table = try await server.cli(["worker-pool", "list"])
        #expect(table.standardOutput.hasPrefix("NAME"), "\(table.standardOutput)")

        #expect(try await server.cli(["environment", "create", "Staging"]).status == 0)
        #expect(
            try await server.cli([
                "target", "create", "ecs", "--name", "api", "--environment", "Staging", "--role", "api", "--region",
                "eu-west-1", "--cluster", "staging", "--worker-credentials", "--worker-pool", "private-vpc",
            ]).status == 0)
        let inUse = try await server.cli(["worker-pool", "delete", "private-vpc"])
        #expect(inUse.status == 1)
        #expect(
            inUse.standardError.contains("The worker pool 'private-vpc' is used by the target 'api'."), "\(inUse.standardError)")
        let builtIn = try await server.cli(["worker-pool", "delete", "Default Worker Pool"])
        #expect(
            builtIn.standardError.contains("is the space's default worker pool and cannot be deleted"), "\(builtIn.standardError)"
        )
        #expect(try await server.cli(["target", "delete", "api"]).status == 0)
        let deleted = try await server.cli(["worker-pool", "delete", "private-vpc"])
        #expect(deleted.status == 0, "\(deleted.standardError)")
        #expect(deleted.standardOutput.contains("Deleted the worker pool 'private-vpc'."))
        let unknown = try await server.cli(["worker-pool", "delete", "private-vpc"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("private-vpc"), "\(unknown.standardError)")
        #expect(try await server.terminate() == 0)
    }

    @Test("A restart keeps everything; a health check that a killed server was running is adopted by its restart and runs again")
    func restartAndRecovery() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let hang = try SilentEndpoint()
        let environment = [
            "AWS_ENDPOINT_URL": hang.url, "AWS_EC2_METADATA_DISABLED": "true", "HOME": root.path,
        ]
        let data = root.appendingPathComponent("data")
        let first = try await BerthServerProcess.start(dataDirectory: data, environment: environment)
        #expect(try await first.cli(["environment", "create", "Staging"]).status == 0)
        #expect(
            try await first.cli(
                ["account", "create", "aws", "--name", "ops", "--access-key", "AKIAIOSFODNN7EXAMPLE", "--secret-key-stdin"],
                standardInput: "secret-value-1\n"
            ).status == 0)
        #expect(
            try await first.cli(
                [
                    "target", "create", "ecs", "--name", "api", "--environment", "Staging", "--role", "api", "--region",
                    "eu-west-1", "--cluster", "staging", "--account", "ops",
                ]
            ).status == 0)
        let key = try await first.cli(["apikey", "create", "ci", "--output", "json"])
        let ciKey = try #require(try Self.json(key.standardOutput)["key"] as? String)
        #expect(try await first.terminate() == 0)

        let second = try await BerthServerProcess.start(dataDirectory: data, environment: environment, apiKey: first.apiKey)
        #expect(!second.log.contains("berth_"), "a restart must not print a new administrator key")
        #expect(try await second.cli(["environment", "list"]).standardOutput.contains("Staging"))
        let account = try Self.json(try await second.cli(["account", "show", "ops", "--output", "json"]).standardOutput)
        #expect((account["secretKey"] as? [String: Any])?["hasValue"] as? Bool == true)
        #expect(try await second.cli(["target", "show", "api", "--api-key", ciKey]).status == 0)
        let updated = try await second.cli(["target", "update", "api", "--role", "api", "--role", "batch", "--output", "json"])
        #expect(try Self.json(updated.standardOutput)["roles"] as? [String] == ["api", "batch"], "\(updated.standardError)")

        // The endpoint never answers, so the check is still executing when the server dies.
        let queued = try await second.cli(["target", "health-check", "api", "--no-wait", "--output", "json"])
        let taskID = try #require(try Self.json(queued.standardOutput)["id"] as? String)
        var state = ""
        for _ in 0..<100 where state != "executing" {
            state =
                try Self.json(try await second.cli(["task", "show", taskID, "--output", "json"]).standardOutput)
                .flatMap { ($0["task"] as? [String: Any])?["state"] as? String } ?? ""
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(state == "executing")
        try await second.killNow()

        // With the health-check schedule on, SIGTERM still ends the server cleanly (exit 0).
        let third = try await BerthServerProcess.start(
            dataDirectory: data, environment: environment, apiKey: first.apiKey, arguments: ["--health-check-interval", "3600"])
        // The restarted node adopts what its previous run left (at once on SQLite) and runs the
        // check again: it hangs on the silent endpoint as before, until it is cancelled.
        let log = try await third.taskLog(taskID, containing: "took it over")
        #expect(log.contains("The server stopped while it ran this task (node "), "\(log)")
        #expect(log.contains("restarted). Node"), "\(log)")
        let adopted = try Self.json(try await third.cli(["task", "show", taskID, "--output", "json"]).standardOutput)
        #expect((adopted["task"] as? [String: Any])?["state"] as? String == "executing", "\(adopted)")
        #expect(try await third.cli(["task", "cancel", taskID]).status == 0)
        let cancelled = try await third.cli(["task", "log", taskID, "--follow"])
        #expect(cancelled.status == 6, "\(cancelled.standardOutput)\(cancelled.standardError)")
        #expect(try await third.terminate() == 0, "\(third.log)")
    }
}

extension Dictionary where Key == String, Value == Any {
    fileprivate func flatMap<T>(_ transform: ([String: Any]) -> T?) -> T? { transform(self) }
}
