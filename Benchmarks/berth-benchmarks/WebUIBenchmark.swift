import AsyncHTTPClient
import BerthDev
import BerthTestSupport
import Foundation
import NIOCore
import NIOHTTP1

/// The web UI's numbers: how long the server takes to answer its pages with 50 projects × 5
/// environments (every cell deployed) and 1,000 targets (each page asked 40 times, one at a time,
/// over loopback: render plus the trip), and how long after a script writes a log line an open
/// event stream (what the task page listens to) has it.
struct WebUIBenchmark {
    struct Results {
        /// Page → (median, 95th percentile) in milliseconds.
        var pages: [(name: String, median: Double, p95: Double, bytes: Int)] = []
        /// Milliseconds from a script's `echo` to the line's arrival on the stream.
        var lineLatencies: [Double] = []
    }

    let berth: String
    /// Redirects not followed: the session cookie comes with the login's 303.
    let http = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
    static let password = "benchmark password 1234"

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
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-web-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"),
            environment: ["HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true"],
            arguments: ["--log-level", "error", "--health-check-interval", "0"], binary: berth)
        progress("web UI: seeding 5 environments, 1,000 targets, 50 projects and a deployment of each to each")
        let environments = ["Development", "Test", "Staging", "Pre-production", "Production"]
        for name in environments { try await server.call(.POST, "/api/spaces/default/environments", ["name": name], using: http) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in 0..<8 {
                group.addTask {
                    for index in stride(from: batch, to: 1000, by: 8) {
                        try await server.call(
                            .POST, "/api/spaces/default/targets",
                            [
                                "name": String(format: "target-%04d", index), "environments": [environments[index % 5]],
                                "roles": ["web"], "useWorkerCredentials": true, "region": "us-east-1", "clusterName": "bench",
                            ], using: http)
                    }
                }
            }
            try await group.waitForAll()
        }
        let step: [String: Any] = ["name": "Say", "type": "run-aws-cli-script", "properties": ["script": "echo deployed"]]
        for index in 0..<50 {
            let project = String(format: "service-%02d", index)
            try await server.call(.PUT, "/api/spaces/default/projects/\(project)", ["steps": [step]], using: http)
            try await server.call(
                .POST, "/api/spaces/default/projects/\(project)/releases", ["version": "1.0.\(index)"], using: http)
            for environment in environments {
                try await server.call(
                    .POST, "/api/spaces/default/deployments",
                    ["project": project, "release": "1.0.\(index)", "environment": environment], using: http)
            }
        }
        // Every cell filled: wait for the 250 deployments (and fail if they do not finish).
        var waited = 0
        while true {
            let queued = try await server.call(.GET, "/api/tasks?state=queued&limit=1", nil, using: http)
            let executing = try await server.call(.GET, "/api/tasks?state=executing&limit=1", nil, using: http)
            if !queued.contains("\"id\""), !executing.contains("\"id\"") { break }
            waited += 1
            guard waited < 600 else { throw TestSupportError("the 250 deployments did not finish within 5 minutes") }
            try await Task.sleep(for: .milliseconds(500))
        }
        try await server.call(.PUT, "/api/users/administrator/password", ["password": Self.password], using: http)
        let cookie = try await logIn(server)
        var results = Results()
        guard
            let taskID = try await server.call(.GET, "/api/tasks?limit=1", nil, using: http).firstMatch(of: /"id":"(task-[^"]+)"/)
                .map({ String($0.output.1) })
        else { throw TestSupportError("no task to show") }
        for (name, path) in [
            ("dashboard, 50 projects × 5 environments", "/spaces/default"),
            ("infrastructure, 1,000 targets", "/spaces/default/infrastructure"),
            ("project page", "/spaces/default/projects/service-07"), ("tasks, the newest 200", "/tasks"),
            ("a finished deployment's task page", "/tasks/\(taskID)"),
        ] {
            progress("web UI: \(name)")
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<40 {
                let started = ContinuousClock.now
                bytes = try await page(server, path, cookie: cookie)
                times.append((ContinuousClock.now - started).milliseconds)
            }
            times.sort()
            results.pages.append((name, times[times.count / 2], times[times.count * 95 / 100], bytes))
        }
        progress("web UI: log line latency")
        results.lineLatencies = try await lineLatencies(server)
        _ = try await server.terminate()
        return results
    }

    func logIn(_ server: BerthServerProcess) async throws -> String {
        let form = try await http.execute(HTTPClientRequest(url: server.url + "/login"), timeout: .seconds(10))
        let text = String(buffer: try await form.body.collect(upTo: 1 << 20))
        guard let binding = form.headers["Set-Cookie"].first?.split(separator: ";").first,
            let csrf = text.firstMatch(of: /name="csrf" value="([^"]+)"/)?.output.1
        else { throw TestSupportError("the login page has no form") }
        var request = HTTPClientRequest(url: server.url + "/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Cookie", value: String(binding))
        let password = Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        request.body = .bytes(ByteBuffer(string: "csrf=\(csrf)&username=administrator&password=\(password)&next=/"))
        let answer = try await http.execute(request, timeout: .seconds(10))
        guard
            let session = answer.headers["Set-Cookie"].first(where: { $0.hasPrefix("berth_session=") })?.split(separator: ";")
                .first
        else { throw TestSupportError("logging in gave no session (\(answer.status))") }
        return String(session)
    }

    func page(_ server: BerthServerProcess, _ path: String, cookie: String) async throws -> Int {
        var request = HTTPClientRequest(url: server.url + path)
        request.headers.add(name: "Cookie", value: cookie)
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw TestSupportError("\(path) answered \(response.status)") }
        return body.readableBytes
    }

    /// A script writes a line with its own clock every 200 ms; the stream's reader compares.
    func lineLatencies(_ server: BerthServerProcess) async throws -> [Double] {
        let script = #"for i in $(seq 1 30); do echo "mark $(date +%s%N)"; sleep 0.2; done"#
        let step: [String: Any] = ["name": "Marks", "type": "run-aws-cli-script", "properties": ["script": script]]
        try await server.call(.PUT, "/api/spaces/default/projects/latency", ["steps": [step]], using: http)
        try await server.call(.POST, "/api/spaces/default/projects/latency/releases", ["version": "1"], using: http)
        let queued = try await server.call(
            .POST, "/api/spaces/default/deployments", ["project": "latency", "release": "1", "environment": "Development"],
            using: http)
        guard let taskID = queued.firstMatch(of: /"taskId":"([^"]+)"/)?.output.1 else {
            throw TestSupportError("no task: \(queued)")
        }
        var request = HTTPClientRequest(url: server.url + "/api/tasks/\(taskID)/log/stream")
        request.headers.add(name: "Authorization", value: "Bearer \(server.apiKey)")
        let response = try await http.execute(request, timeout: .seconds(120))
        var latencies: [Double] = []
        var pending = ""
        for try await chunk in response.body {
            let arrived = Date().timeIntervalSince1970
            pending += String(buffer: chunk)
            while let end = pending.range(of: "\n\n") {
                let event = pending[..<end.lowerBound]
                pending.removeSubrange(..<end.upperBound)
                if let mark = event.firstMatch(of: /mark (\d{19})/), let nanoseconds = Double(mark.output.1) {
                    latencies.append((arrived - nanoseconds / 1e9) * 1000)
                }
            }
        }
        guard latencies.count == 30 else { throw TestSupportError("the stream carried \(latencies.count) of 30 marks") }
        return latencies.sorted()
    }
}

func printWebUIResults(_ results: WebUIBenchmark.Results) {
    for page in results.pages {
        print(
            String(
                format: "web UI page, %@: median %6.1f ms, p95 %6.1f ms (%d kB; target: rendered in well under 20 ms)",
                page.name.padding(toLength: 40, withPad: " ", startingAt: 0), page.median, page.p95, page.bytes / 1024))
    }
    let latencies = results.lineLatencies
    if !latencies.isEmpty {
        print(
            String(
                format: "log line, script's echo → event stream:  median %6.1f ms, p95 %6.1f ms, worst %.1f ms (target < 250 ms)",
                latencies[latencies.count / 2], latencies[latencies.count * 95 / 100], latencies[latencies.count - 1]))
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
