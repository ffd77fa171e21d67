import BerthDev
import Foundation

/// A real `berth worker run` process, registered into a pool of a ``BerthServerProcess``, with
/// exactly the environment a test gives it (its own `HOME` in a temporary directory): what it can
/// reach of AWS is what that environment holds.
public final class BerthWorkerProcess: Sendable {
    public let name: String
    public let configFile: URL
    public let logFile: URL
    private let process: Process

    /// Registers a worker named `name` into `pool` with `token`, then starts it.
    /// - Parameters:
    ///   - directory: the worker's own directory (its HOME, credential and log), created if missing.
    ///   - environment: the worker's whole environment besides `PATH` and `HOME`.
    public static func start(
        server: BerthServerProcess, pool: String, name: String, token: String, directory: URL,
        environment: [String: String], arguments: [String] = [], binary: String = BerthProcess.binaryPath
    ) async throws -> BerthWorkerProcess {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configFile = directory.appendingPathComponent("worker.json")
        var childEnvironment = environment
        childEnvironment["HOME"] = directory.path
        let registered = try await BerthProcess.run(
            [
                "worker", "register", "--server", server.url, "--pool", pool, "--name", name, "--token", token, "--config",
                configFile.path,
            ], environment: childEnvironment, binary: binary)
        guard registered.status == 0 else {
            throw TestSupportError("berth worker register failed: \(registered.standardError) \(registered.standardOutput)")
        }
        return try start(
            name: name, configFile: configFile, directory: directory, environment: childEnvironment, arguments: arguments,
            binary: binary)
    }

    /// Starts an already registered worker again.
    public static func start(
        name: String, configFile: URL, directory: URL, environment: [String: String], arguments: [String] = [],
        binary: String = BerthProcess.binaryPath
    ) throws -> BerthWorkerProcess {
        let logFile = directory.appendingPathComponent("worker-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["worker", "run", "--config", configFile.path] + arguments
        var childEnvironment = environment
        childEnvironment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        childEnvironment["HOME"] = directory.path
        process.environment = childEnvironment
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return BerthWorkerProcess(name: name, configFile: configFile, logFile: logFile, process: process)
    }

    private init(name: String, configFile: URL, logFile: URL, process: Process) {
        self.name = name
        self.configFile = configFile
        self.logFile = logFile
        self.process = process
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public var processIdentifier: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// What the worker has printed so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Waits until the worker's log contains `text`. - Throws: when it does not within `seconds`.
    public func waitForLog(containing text: String, within seconds: Int = 30) async throws {
        for _ in 0..<(seconds * 10) {
            if log.contains(text) { return }
            if !process.isRunning { throw TestSupportError("berth worker exited: \(log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("'\(text)' did not appear in the worker's log within \(seconds) s: \(log)")
    }

    /// SIGKILL: the worker gets no chance to hand anything back.
    public func killNow() async throws {
        kill(process.processIdentifier, SIGKILL)
        try await waitForExit()
    }

    /// SIGTERM, then waits for the exit; returns the exit status.
    @discardableResult
    public func terminate() async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        try await waitForExit()
        return process.terminationStatus
    }

    private func waitForExit() async throws {
        for _ in 0..<300 where process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        guard !process.isRunning else { throw TestSupportError("berth worker did not exit within 30 s") }
    }
}
