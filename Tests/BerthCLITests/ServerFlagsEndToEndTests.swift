import BerthDev
import BerthTestSupport
import Foundation
import Testing

@Suite("berth server's HTTP flags end to end")
struct ServerFlagsEndToEndTests {
    @Test("Listening on every interface without TLS warns at start; TLS and size flags are checked before anything starts")
    func flags() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-flags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // A server on every interface: the warning comes before it listens.
        let port = try freeLoopbackPort()
        let logFile = root.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: BerthProcess.binaryPath)
        server.arguments = [
            "server", "--data-dir", root.appendingPathComponent("data").path, "--listen", "0.0.0.0:\(port)",
            "--health-check-interval", "0",
        ]
        server.environment = ["HOME": root.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let output = try FileHandle(forWritingTo: logFile)
        server.standardOutput = output
        server.standardError = output
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        var log = ""
        for _ in 0..<600 where !log.contains("Berth is listening") && server.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        }
        #expect(log.contains("Berth is listening"), "\(log)")
        #expect(log.contains("WARNING: Berth is listening on 0.0.0.0:\(port) without TLS"), "\(log)")
        server.terminate()
        for _ in 0..<300 where server.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!server.isRunning, "the server still runs 30 s after SIGTERM")

        let data = root.appendingPathComponent("refused").path
        for (arguments, message) in [
            (["--tls-certificate", "/dev/null"], "--tls-certificate and --tls-key go together"),
            (
                ["--tls-certificate", root.appendingPathComponent("none.pem").path, "--tls-key", "/dev/null"],
                "is not a readable file"
            ),
            (["--max-body-size", "lots"], "--max-body-size 'lots' is not a size"),
            (["--idle-timeout", "0"], "--idle-timeout must be 1 to 3600 seconds"),
            (["--request-timeout", "0"], "--request-timeout must be 1 to 3600 seconds"),
            (["--max-task-log-lines", "5"], "--max-task-log-lines must be 100 to 10000000"),
            (["--script-uid-range", "2000-1000"], "--script-uid-range '2000-1000' is not START-END"),
            (["--script-uid-range", "0-99"], "--script-uid-range '0-99' must lie within 1000-2147483646"),
        ] {
            let result = try await BerthProcess.run(
                ["server", "--data-dir", data, "--listen", "127.0.0.1:0"] + arguments, environment: ["HOME": root.path],
                timeLimit: .seconds(60))
            #expect(result.status == 2, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: data))
    }

    @Test("A PostgreSQL password on the command line is warned about (every local user can read it) and never printed")
    func databasePasswordInArguments() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-dbflag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // Nothing listens on port 9 of the loopback: the server warns, then fails to reach the database.
        let result = try await BerthProcess.run(
            [
                "server", "--data-dir", root.appendingPathComponent("data").path, "--listen", "127.0.0.1:0",
                "--database", "postgres://berth:hunter2-secret@127.0.0.1:9/berth",
            ], environment: ["HOME": root.path], timeLimit: .seconds(60))
        let output = result.standardOutput + result.standardError
        #expect(output.contains("WARNING: --database carries a password"), "\(output)")
        #expect(output.contains("BERTH_DATABASE_URL"), "\(output)")
        #expect(!output.contains("hunter2-secret"), "\(output)")
        #expect(result.status != 0)
    }
}
