import BerthDev
import BerthTestSupport
import Foundation

/// Target listing under load, measured by wrk (a separate C process, so the load generator costs
/// the server as little CPU as possible): requests per second and latency percentiles.
///
/// Two figures, because they measure different code: **cached** asks for the same page again and
/// again, so after the first request every answer comes from `TargetListCache`; **cold** asks for a
/// different page each time (a random cursor) with `Cache-Control: no-cache`, so every answer is
/// read from the database and encoded anew — the listing itself.
struct ListLoad {
    struct Measurement {
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
    }

    enum Mode: String {
        case cached, cold
    }

    let server: BerthServerProcess
    let connections = 16
    let seconds = 5

    func measure(limit: Int, targets: Int, mode: Mode) async throws -> Measurement {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("berth-list-\(UUID().uuidString).lua")
        defer { try? FileManager.default.removeItem(at: script) }
        try luaScript(limit: limit, targets: targets, mode: mode).write(to: script, atomically: true, encoding: .utf8)
        let result = try await BerthProcess.run(
            [
                "--threads", "2", "--connections", String(connections), "--duration", "\(seconds)s", "--latency",
                "--script", script.path, server.url,
            ], environment: [:], binary: try Self.wrk())
        guard result.status == 0 else { throw TestSupportError("wrk failed: \(result.standardError)") }
        return try Self.parse(result.standardOutput)
    }

    /// Every request carries the API key; a non-2xx answer is counted by wrk and fails the run.
    func luaScript(limit: Int, targets: Int, mode: Mode) -> String {
        let headers = #"["Authorization"] = "Bearer \#(server.apiKey)""#
        switch mode {
        case .cached:
            return """
                wrk.method = "GET"
                wrk.path = "/api/spaces/default/targets?limit=\(limit)"
                wrk.headers["Authorization"] = "Bearer \(server.apiKey)"
                \(Self.statusCheck)
                """
        case .cold:
            return """
                math.randomseed(42)
                request = function()
                  local after = string.format("target-%04d", math.random(0, \(max(targets - limit - 1, 0))))
                  local path = "/api/spaces/default/targets?limit=\(limit)&after=" .. after
                  return wrk.format("GET", path, { \(headers), ["Cache-Control"] = "no-cache" })
                end
                \(Self.statusCheck)
                """
        }
    }

    static let statusCheck = """
        failures = 0
        response = function(status, headers, body)
          if status ~= 200 then failures = failures + 1 end
        end
        done = function(summary, latency, requests)
          if summary.errors.status > 0 then io.stderr:write("non-2xx answers: " .. summary.errors.status .. "\\n"); os.exit(1) end
        end
        """

    /// `Requests/sec:` and the `50%` / `99%` lines of wrk's latency distribution.
    static func parse(_ output: String) throws -> Measurement {
        var rate: Double?
        var percentiles: [String: Double] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "Requests/sec:", fields.count > 1 { rate = Double(fields[1]) }
            if fields.count == 2, ["50%", "99%"].contains(String(fields[0])) {
                percentiles[String(fields[0])] = milliseconds(String(fields[1]))
            }
        }
        guard let rate, let p50 = percentiles["50%"], let p99 = percentiles["99%"] else {
            throw TestSupportError("could not read wrk's output:\n\(output)")
        }
        return Measurement(requestsPerSecond: rate, p50Milliseconds: p50, p99Milliseconds: p99)
    }

    /// wrk prints `812.00us`, `1.53ms` or `2.10s`.
    static func milliseconds(_ text: String) -> Double? {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return nil
    }

    /// wrk from Debian's packages (`make bench` installs it).
    static func wrk() throws -> String {
        for path in ["/usr/bin/wrk", "/usr/local/bin/wrk"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw TestSupportError("wrk is not installed: run `make bench`, which installs it with apt-get")
    }
}
