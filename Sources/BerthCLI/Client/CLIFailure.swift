/// A failure the CLI reports in one line on stderr, with the exit code it means.
struct CLIFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = BerthExitCode.failure) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    static func usage(_ message: String) -> CLIFailure { CLIFailure(message, exitCode: BerthExitCode.usage) }
}
