import AWSCore
import AWSECS
import AWSSigV4
import AsyncHTTPClient
import BerthDev
import BerthTestSupport
import Foundation
import NIOCore
import NIOHTTP1

/// The server's numbers: list throughput with 1,000 targets, health checks of 200 targets against
/// moto, resident memory at idle. The server is the real (release) binary in its own process.
func progress(_ text: String) {
    FileHandle.standardError.write(Data("… \(text)\n".utf8))
}

struct ServerBenchmarks {
    struct Results {
        var idleMemoryMiB: Double?
        var idleMemoryAfterLoadMiB: Double?
        var idleAnonymousMemoryMiB: Double?
        var idleAnonymousMemoryAfterLoadMiB: Double?
        /// Page size → (cached, cold) measurements of listing 1,000 targets.
        var listing: [Int: (cached: ListLoad.Measurement, cold: ListLoad.Measurement)] = [:]
        var healthCheck200Seconds: Double = 0
    }

    let berth: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton)

    func run() async throws -> Results {
        do {
            let results = try await measure()
            try await http.shutdown()
            return results
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    func measure() async throws -> Results {
        try await withMoto(authenticated: false) { moto, administrator in
            let ecs = ECSClient(client: try moto.client(for: .ecs, credentials: administrator))
            _ = try await ecs.createCluster(ECS.CreateClusterRequest(clusterName: "bench"))
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            var environment = moto.environment.values
            environment["HOME"] = root.path
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            let server = try await BerthServerProcess.start(
                dataDirectory: root.appendingPathComponent("data"), environment: environment,
                arguments: ["--log-level", "error"],
                binary: berth)
            defer { _ = server }
            progress("server started")
            var results = Results()
            try await Task.sleep(for: .seconds(2))
            results.idleMemoryMiB = server.residentMemoryMiB
            results.idleAnonymousMemoryMiB = server.anonymousMemoryMiB

            try await seed(server, space: "default", targets: 1000, administrator: administrator)
            progress("seeded 1,000 targets")
            let load = ListLoad(server: server)
            for limit in [100, 1000] {
                let cached = try await load.measure(limit: limit, targets: 1000, mode: .cached)
                let cold = try await load.measure(limit: limit, targets: 1000, mode: .cold)
                results.listing[limit] = (cached, cold)
            }

            progress("listed")
            _ = try await server.call(.POST, "/api/spaces", ["name": "bench200"])
            try await seed(server, space: "bench200", targets: 200, administrator: administrator)
            progress("seeded 200 targets in another space")
            let started = ContinuousClock.now
            _ = try await server.call(.POST, "/api/spaces/bench200/targets/health-checks", nil)
            while true {
                let queued = try await server.call(.GET, "/api/tasks?state=queued&limit=1", nil)
                let executing = try await server.call(.GET, "/api/tasks?state=executing&limit=1", nil)
                if try isEmptyList(queued), try isEmptyList(executing) { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            results.healthCheck200Seconds = (ContinuousClock.now - started).timeInterval
            let failed = try await server.call(.GET, "/api/tasks?state=failed&limit=1", nil)
            if try !isEmptyList(failed) { print("warning: some health checks failed: \(failed.prefix(300))") }

            // Idle again: long enough for the server's memory trimmer (every 10 s) to have run once.
            try await Task.sleep(for: .seconds(12))
            results.idleMemoryAfterLoadMiB = server.residentMemoryMiB
            results.idleAnonymousMemoryAfterLoadMiB = server.anonymousMemoryMiB
            try await server.terminate()
            return results
        }
    }

    func isEmptyList(_ body: String) throws -> Bool {
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (object?["items"] as? [Any])?.isEmpty ?? false
    }

    func seed(_ server: BerthServerProcess, space: String, targets: Int, administrator: Credentials) async throws {
        _ = try await server.call(.POST, "/api/spaces/\(space)/environments", ["name": "Production"])
        _ = try await server.call(
            .POST, "/api/spaces/\(space)/accounts",
            [
                "type": "aws-access-key", "name": "ops", "accessKeyId": administrator.accessKeyID,
                "secretKey": administrator.secretAccessKey,
            ])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in stride(from: 0, to: targets, by: targets / 8) {
                group.addTask {
                    for index in batch..<min(batch + targets / 8, targets) {
                        _ = try await server.call(
                            .POST, "/api/spaces/\(space)/targets",
                            [
                                "name": String(format: "target-%04d", index), "environments": ["Production"], "roles": ["web"],
                                "region": "us-east-1", "clusterName": "bench", "account": "ops",
                            ])
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
