import BerthDev
import Foundation

/// Runs the real `berth` binary (built next to the test bundle, or at `$BERTH_BINARY`) with an
/// environment made only of what the test passes, and collects its exit status and output.
public struct BerthProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
        /// How long the process ran.
        public var duration: Duration
    }

    public static var binaryPath: String {
        if let explicit = ProcessInfo.processInfo.environment["BERTH_BINARY"] { return explicit }
        let directory =
            Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = directory
        // On macOS the test runner sits inside the .xctest bundle.
        while candidate.path != "/" {
            let path = candidate.appendingPathComponent("berth").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
            candidate.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("berth").path
    }

    /// A run that did not end within its time limit; the process was terminated.
    public struct TimedOut: Error, CustomStringConvertible {
        public var arguments: [String]
        public var limit: Duration
        public var standardOutput: String
        public var standardError: String

        public var description: String {
            "berth \(arguments.joined(separator: " ")) did not exit within \(limit); it was terminated."
                + "\nstdout: \(standardOutput)\nstderr: \(standardError)"
        }
    }

    /// Runs `berth arguments…`. `PATH` is passed through; nothing else from this process is.
    /// Output is read while the process runs (a full pipe would otherwise block it), and a process
    /// still running after `timeLimit` is terminated and reported as `TimedOut`, so that a hung
    /// command fails its test instead of hanging the suite.
    /// - Parameter standardInput: text for the process's stdin (nothing when nil).
    public static func run(
        _ arguments: [String], environment: [String: String], standardInput: String? = nil, binary: String = binaryPath,
        timeLimit: Duration = .seconds(180)
    ) async throws -> Result {
        var childEnvironment = environment
        childEnvironment["PATH"] = childEnvironment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        let output = try SpawnedProcess.pipe()
        let errors = try SpawnedProcess.pipe()
        let input = try SpawnedProcess.pipe()
        let started = ContinuousClock.now
        let child: SpawnedProcess
        do {
            child = try SpawnedProcess.spawn(
                binary, arguments: arguments, environment: childEnvironment, input: input.read, output: output.write,
                error: errors.write)
        } catch {
            for descriptor in [output.read, output.write, errors.read, errors.write, input.read, input.write] {
                close(descriptor)
            }
            throw error
        }
        for descriptor in [output.write, errors.write, input.read] { close(descriptor) }
        // The text (short) fits the pipe's buffer; then end of input, or none at all.
        let writer = FileHandle(fileDescriptor: input.write, closeOnDealloc: true)
        if let standardInput { writer.write(Data(standardInput.utf8)) }
        try writer.close()
        let pid = child.pid
        let watchdog = Task { () -> Bool in
            do { try await Task.sleep(for: timeLimit) } catch { return false }
            kill(pid, SIGKILL)
            return true
        }
        async let standardOutput = Self.readToEnd(FileHandle(fileDescriptor: output.read, closeOnDealloc: true))
        async let standardError = Self.readToEnd(FileHandle(fileDescriptor: errors.read, closeOnDealloc: true))
        let status = await child.exitStatus()
        let duration = ContinuousClock.now - started
        watchdog.cancel()
        let result = Result(
            status: status, standardOutput: String(decoding: await standardOutput, as: UTF8.self),
            standardError: String(decoding: await standardError, as: UTF8.self), duration: duration)
        if await watchdog.value {
            throw TimedOut(
                arguments: arguments, limit: timeLimit, standardOutput: result.standardOutput,
                standardError: result.standardError)
        }
        return result
    }

    /// Reads a pipe to its end on a thread of its own (blocking reads see EOF reliably on Linux).
    static func readToEnd(_ handle: FileHandle) async -> Data {
        await onOwnThread { handle.readDataToEndOfFile() }
    }
}
