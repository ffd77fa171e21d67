import AsyncHTTPClient
import BerthDev
import Foundation
import NIOCore
import NIOHTTP1

/// A real `berth server` process on a free loopback port, for end-to-end tests: its output goes
/// to a log file outside the data directory, so that tests can search both.
public final class BerthServerProcess: Sendable {
    public let url: String
    public let apiKey: String
    public let dataDirectory: URL
    public let logFile: URL
    private let process: Process

    /// The loopback port it listens on.
    public var port: Int { URLComponents(string: url)?.port ?? 0 }

    /// Starts the server and waits until `/healthz` answers.
    /// - Parameters:
    ///   - apiKey: the key of an earlier start on the same data directory (a first start prints one).
    ///   - environment: the server's whole environment besides `PATH`.
    ///   - port: the port to listen on (that of a stopped server, to start it again where clients
    ///     look for it); a free one when nil.
    public static func start(
        dataDirectory: URL, environment: [String: String], apiKey: String? = nil, arguments: [String] = [],
        binary: String = BerthProcess.binaryPath, port: Int? = nil
    ) async throws -> BerthServerProcess {
        // A free port can be taken before the server binds it (by another process's outgoing
        // connection, on a busy machine): a server that could not bind a port it did not ask for
        // starts again on another.
        var key = apiKey
        for attempt in 1... {
            do {
                return try await startOnce(
                    dataDirectory: dataDirectory, environment: environment, apiKey: key, arguments: arguments,
                    binary: binary, port: port)
            } catch let error as TestSupportError
                where port == nil && attempt < 3 && error.description.contains("Address already in use")
            {
                // The first attempt may have made the administrator key before it failed to bind.
                key = key ?? error.description.firstMatch(of: /berth_[A-Za-z0-9_-]+/).map { String($0.output) }
            }
        }
        preconditionFailure("unreachable")
    }

    private static func startOnce(
        dataDirectory: URL, environment: [String: String], apiKey: String?, arguments: [String], binary: String,
        port: Int?
    ) async throws -> BerthServerProcess {
        try await ScriptWorkerUser.ensure()
        let port = try port ?? freeLoopbackPort()
        let logFile = dataDirectory.deletingLastPathComponent().appendingPathComponent(
            "\(dataDirectory.lastPathComponent)-server-\(port).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "server", "--data-dir", dataDirectory.path, "--listen", "127.0.0.1:\(port)", "--health-check-interval", "0",
            ] + arguments
        var childEnvironment = environment
        childEnvironment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        process.environment = childEnvironment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let url = "http://127.0.0.1:\(port)"
        for _ in 0..<300 {
            if !process.isRunning {
                throw TestSupportError("berth server exited: \((try? String(contentsOf: logFile, encoding: .utf8)) ?? "")")
            }
            var request = HTTPClientRequest(url: url + "/healthz")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)), response.status == .ok {
                let output = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                let printedKey = output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("berth_") }.map(String.init)
                guard let key = apiKey ?? printedKey else {
                    kill(process.processIdentifier, SIGKILL)
                    throw TestSupportError("berth server printed no API key: \(output)")
                }
                return BerthServerProcess(url: url, apiKey: key, dataDirectory: dataDirectory, logFile: logFile, process: process)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGKILL)
        throw TestSupportError("berth server did not answer /healthz within 30 s")
    }

    private init(url: String, apiKey: String, dataDirectory: URL, logFile: URL, process: Process) {
        self.url = url
        self.apiKey = apiKey
        self.dataDirectory = dataDirectory
        self.logFile = logFile
        self.process = process
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The server's process id.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// The server's resident memory in MiB (Linux: VmRSS of /proc/PID/status).
    public var residentMemoryMiB: Double? { memoryMiB("VmRSS:") }

    /// The part of the resident memory that is the process's own heap and stacks (`RssAnon`), without
    /// the pages of its code and libraries, which are clean, shared and given back under pressure.
    public var anonymousMemoryMiB: Double? { memoryMiB("RssAnon:") }

    private func memoryMiB(_ field: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }

    /// User plus system CPU time the server has used, in seconds (Linux: /proc/PID/stat).
    public var cpuSeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ")
        else { return nil }
        // Fields after the command name start at field 3; utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// What the server has printed so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Runs a CLI command against this server (no login file; the key comes from the environment).
    public func cli(_ arguments: [String], standardInput: String? = nil, environment: [String: String] = [:]) async throws
        -> BerthProcess.Result
    {
        var childEnvironment = environment
        childEnvironment["BERTH_SERVER"] = url
        childEnvironment["BERTH_API_KEY"] = apiKey
        childEnvironment["BERTH_CONFIG"] = dataDirectory.path + "-no-login.json"
        return try await BerthProcess.run(arguments, environment: childEnvironment, standardInput: standardInput)
    }

    /// The log of task `taskID` (`berth task log`) once it contains `text`.
    /// - Throws: when it does not within `seconds`, with the log as it was.
    public func taskLog(_ taskID: String, containing text: String, within seconds: Int = 30) async throws -> String {
        var log = ""
        for _ in 0..<(seconds * 10) {
            log = try await cli(["task", "log", taskID]).standardOutput
            if log.contains(text) { return log }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("'\(text)' did not appear in the log of \(taskID) within \(seconds) s: \(log)")
    }

    /// SIGTERM, then waits (without blocking a thread) for the exit; returns the exit status.
    @discardableResult
    public func terminate() async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return try await waitForExit()
    }

    /// SIGKILL: the server gets no chance to clean up.
    @discardableResult
    public func killNow() async throws -> Int32 {
        kill(process.processIdentifier, SIGKILL)
        return try await waitForExit()
    }

    /// Waits (without blocking a thread) for the server to exit by itself; returns the exit status.
    /// - Throws: when it still runs after `seconds`.
    public func waitForExit(within seconds: Int = 30) async throws -> Int32 {
        for _ in 0..<(seconds * 10) where process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        guard !process.isRunning else { throw TestSupportError("berth server did not exit within \(seconds) s") }
        return process.terminationStatus
    }
}

/// A loopback TCP port that accepts connections and never answers: an AWS endpoint that hangs.
public final class SilentEndpoint: Sendable {
    public let url: String
    private let socketDescriptor: Int32

    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            close(descriptor)
            throw TestSupportError("bind/listen failed")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        socketDescriptor = descriptor
        url = "http://127.0.0.1:\(UInt16(bigEndian: actual.sin_port))"
    }

    deinit { close(socketDescriptor) }
}
