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

    /// Runs `berth arguments…`. `PATH` is passed through; nothing else from this process is.
    /// - Parameter standardInput: text for the process's stdin (nothing when nil).
    public static func run(
        _ arguments: [String], environment: [String: String], standardInput: String? = nil, binary: String = binaryPath
    ) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var childEnvironment = environment
        childEnvironment["PATH"] = childEnvironment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        process.environment = childEnvironment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        if let standardInput {
            let input = Pipe()
            process.standardInput = input
            input.fileHandleForWriting.write(Data(standardInput.utf8))
            try input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let started = ContinuousClock.now
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let duration = ContinuousClock.now - started
        return Result(
            status: status,
            standardOutput: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            standardError: String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            duration: duration)
    }
}
