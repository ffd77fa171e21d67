import AWSCore
import AWSCredentials
import AWSSigV4
import BerthDomain
import Dispatch
import Foundation

/// "Run AWS CLI script": a bash script on the worker, with the target's credentials in the standard
/// AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// `AWS_DEFAULT_REGION`) and the worker's `AWS_ENDPOINT_URL*`, so `aws …` just works.
///
/// The script is a step property, so `#{Name}` works in it. It can also read variables with
/// `get_berthvariable NAME` and set output variables with `set_berthvariable NAME VALUE
/// [-sensitive]` (available to later steps as `Berth.Action[Step].Output.NAME`; sensitive ones are
/// masked from the moment they are set). Standard output is logged as info, standard error as
/// warnings; a non-zero exit fails the step.
///
/// Properties: `script` (required); for a step without target roles, `region` and the credentials
/// of ``ScriptCredentials`` (`account`, `assumeRoleArn`, …).
struct ScriptStep {
    let run: StepRun

    static let serviceMessagePrefix = "##berth[setVariable "

    func execute() async throws -> StepOutcome {
        let script = try run.properties.requiredString("script")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let variablesFile = directory.appendingPathComponent("variables")
        let scriptFile = directory.appendingPathComponent("script.sh")
        try write(variablesFile, Self.variableLines(run.variables))
        try write(scriptFile, Self.prelude + script + "\n")

        var environment = passThroughEnvironment()
        environment["BERTH_VARIABLES_FILE"] = variablesFile.path
        let region = run.region
        environment["AWS_REGION"] = region
        environment["AWS_DEFAULT_REGION"] = region
        if let credentials = run.credentials {
            let current = try await credentials.provider.credentials()
            environment["AWS_ACCESS_KEY_ID"] = current.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = current.secretAccessKey
            environment["AWS_SESSION_TOKEN"] = current.sessionToken
            await run.log.writer.addSensitive([current.secretAccessKey] + [current.sessionToken].compactMap(\.self))
            await run.log.verbose(
                "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\(current.sessionToken == nil ? "" : ", AWS_SESSION_TOKEN"), AWS_REGION and AWS_DEFAULT_REGION (\(region)) are set for the script."
            )
        }
        await run.log.info("Running the script with \(run.configuration.bash).")
        var outputs: [String: String] = [:]
        var sensitive: Set<String> = []
        let status = try await ScriptProcess.run(
            run.configuration.bash, arguments: [scriptFile.path], environment: environment, directory: directory
        ) { line, isError in
            if !isError, line.hasPrefix(Self.serviceMessagePrefix), let message = Self.parseSetVariable(line) {
                if message.sensitive {
                    await run.log.writer.addSensitive([message.value])
                    sensitive.insert(message.name)
                }
                outputs[message.name] = message.value
                await run.log.info(
                    "Output variable \(message.name) set\(message.sensitive ? " (sensitive)" : ": \(message.value)").")
                return
            }
            await run.log.write(isError ? .warning : .info, line)
        }
        guard status == 0 else {
            return StepOutcome(state: .failed, message: "the script exited with code \(status)", outputs: outputs)
        }
        var outcome = StepOutcome.succeeded(outputs)
        outcome.sensitiveOutputs = sensitive
        return outcome
    }

    func write(_ file: URL, _ text: String) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw BerthError(.internalError, "The script's file \(file.lastPathComponent) could not be written.") }
    }

    /// PATH, HOME, locale and every `AWS_ENDPOINT_URL*`/`AWS_CA_BUNDLE` of the worker; nothing else.
    func passThroughEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for (name, value) in run.configuration.environment.values
        where ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "AWS_CA_BUNDLE"].contains(name) || name.hasPrefix("AWS_ENDPOINT_URL") {
            environment[name] = value
        }
        environment["PATH"] = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return environment
    }

    /// One line per variable: lower-cased name and evaluated value, each base64.
    static func variableLines(_ variables: VariableDictionary) -> String {
        variables.all.map { entry in
            let value = variables.evaluated(entry.name) ?? entry.value
            return Data(entry.name.lowercased().utf8).base64EncodedString() + " " + Data(value.utf8).base64EncodedString()
        }.joined(separator: "\n") + "\n"
    }

    static func parseSetVariable(_ line: String) -> (name: String, value: String, sensitive: Bool)? {
        func attribute(_ name: String) -> String? {
            guard let start = line.range(of: "\(name)=\"") else { return nil }
            guard let end = line[start.upperBound...].firstIndex(of: "\"") else { return nil }
            return String(line[start.upperBound..<end])
        }
        guard let name = attribute("name").flatMap({ Data(base64Encoded: $0) }).map({ String(decoding: $0, as: UTF8.self) }),
            let value = attribute("value").flatMap({ Data(base64Encoded: $0) }).map({ String(decoding: $0, as: UTF8.self) }),
            !name.isEmpty
        else { return nil }
        return (name, value, attribute("sensitive") == "True")
    }

    static let prelude = #"""
        set -eo pipefail
        get_berthvariable() {
          local wanted line_name line_value
          wanted=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | base64 -w0)
          while read -r line_name line_value; do
            if [ "$line_name" = "$wanted" ]; then printf '%s' "$line_value" | base64 -d; return 0; fi
          done < "$BERTH_VARIABLES_FILE"
          return 1
        }
        set_berthvariable() {
          local sensitive=False
          if [ "${3:-}" = "-sensitive" ]; then sensitive=True; fi
          printf '##berth[setVariable name="%s" value="%s" sensitive="%s"]\n' \
            "$(printf '%s' "$1" | base64 -w0)" "$(printf '%s' "$2" | base64 -w0)" "$sensitive"
        }

        """#
}

/// A child process whose output arrives line by line while it runs; cancelling the waiting task
/// terminates the process.
enum ScriptProcess {
    static func run(
        _ executable: String, arguments: [String], environment: [String: String], directory: URL,
        onLine: (String, Bool) async -> Void
    ) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        let (lines, continuation) = AsyncStream.makeStream(of: (String, Bool).self)
        let open = OpenPipes(count: 2) { continuation.finish() }
        // A blocking reader per pipe: each ends at EOF, when the script and everything it started
        // have closed their output.
        for (pipe, isError) in [(output, false), (error, true)] {
            let handle = pipe.fileHandleForReading
            DispatchQueue.global().async {
                let splitter = LineSplitter()
                while true {
                    let data = handle.availableData
                    if data.isEmpty { break }
                    for line in splitter.append(data) { continuation.yield((line, isError)) }
                }
                for line in splitter.finish() { continuation.yield((line, isError)) }
                open.close()
            }
        }
        let (exit, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = {
            exitContinuation.yield($0.terminationStatus)
            exitContinuation.finish()
        }
        try process.run()
        try? output.fileHandleForWriting.close()
        try? error.fileHandleForWriting.close()
        return try await withTaskCancellationHandler {
            for await (line, isError) in lines { await onLine(line, isError) }
            var status: Int32 = -1
            for await code in exit { status = code }
            if Task.isCancelled { throw CancellationError() }
            return status
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
    }
}

/// Counts the pipes still open and calls `onAllClosed` after the last.
final class OpenPipes: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    private let onAllClosed: @Sendable () -> Void

    init(count: Int, onAllClosed: @escaping @Sendable () -> Void) {
        self.count = count
        self.onAllClosed = onAllClosed
    }

    func close() {
        let last = lock.withLock { () -> Bool in
            count -= 1
            return count == 0
        }
        if last { onAllClosed() }
    }
}

/// Splits bytes into lines (without their newline).
final class LineSplitter: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()

    func append(_ data: Data) -> [String] {
        lock.withLock {
            buffer.append(data)
            var lines: [String] = []
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...newline)
            }
            return lines
        }
    }

    func finish() -> [String] {
        lock.withLock {
            defer { buffer.removeAll() }
            return buffer.isEmpty ? [] : [String(decoding: buffer, as: UTF8.self)]
        }
    }
}
