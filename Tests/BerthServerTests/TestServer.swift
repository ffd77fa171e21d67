import AWSCore
import BerthDev
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A Berth server in this process, on a free loopback port, with a fresh data directory.
struct TestServer {
    let client: any TestClientProtocol
    let server: BerthServer
    let key: String
    let dataDirectory: URL

    /// Runs `body` against a new server; AWS calls go to `awsEnvironment` (nothing by default).
    static func with<T: Sendable>(
        awsEnvironment: [String: String] = ["AWS_EC2_METADATA_DISABLED": "true"], clock: any AWSClock = SystemClock(),
        healthCheckInterval: Duration? = nil, deploymentPollInterval: Duration = .milliseconds(100),
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        try await ScriptWorkerUser.ensure()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-api-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "berth.test.server")
        logger.logLevel = .warning
        var configuration = ServerConfiguration(
            dataDirectory: directory, host: "localhost", port: 0, environment: [:],
            engine: EngineConfiguration(
                environment: EnvironmentVariables(awsEnvironment), healthCheckInterval: healthCheckInterval,
                deploymentPollInterval: deploymentPollInterval, clock: clock, logger: logger),
            logger: logger)
        // The test client keeps one connection open for the whole test; under the full suite's load
        // a test's own work between two requests can outlast the 60 s default, and the server would
        // close the connection under it ("I/O on closed channel"). Tests of the timeout set their own.
        configuration.http.idleTimeout = .seconds(600)
        configure(&configuration)
        let server = try await BerthServer.build(configuration)
        let key = try #require(server.administratorKey)
        return try await server.application.test(.live) { client in
            try await body(TestServer(client: client, server: server, key: key, dataDirectory: directory))
        }
    }

    /// Waits until the task `id` has finished; returns it.
    func finishedTask(_ id: String) async throws -> ServerTask {
        // Generous: the whole suite (a browser among it) shares two cores.
        for _ in 0..<2400 {
            if let task = try await server.store.task(id: id), task.state.isFinished { return task }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BerthError(.internalError, "the task \(id) did not finish within 120 s")
    }

    /// Waits until `count` tasks exist and all have finished; returns them.
    func finishedTasks(count: Int) async throws -> [ServerTask] {
        for _ in 0..<2400 {
            let tasks = try await server.store.listTasks(limit: 1000)
            if tasks.count >= count, tasks.allSatisfy(\.state.isFinished) { return tasks }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BerthError(.internalError, "\(count) tasks did not finish within 120 s")
    }

    struct Reply {
        var status: HTTPResponse.Status
        var text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
        var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
        var errorFields: [String] {
            ((json["error"] as? [String: Any])?["details"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        }
    }

    /// A request with the administrator key (or `key`), a JSON body given as a dictionary or text.
    @discardableResult
    func request(
        _ method: HTTPRequest.Method, _ path: String, json: Any? = nil, text: String? = nil, key: String?? = .none
    ) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let key = key ?? self.key { headers[.authorization] = "Bearer \(key)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let text {
            body = ByteBuffer(string: text)
        }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Reply(status: response.status, text: String(buffer: response.body))
        }
    }
}
