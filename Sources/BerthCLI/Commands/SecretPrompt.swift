import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a secret without echoing it, or one line from stdin when asked to.
enum SecretPrompt {
    static func readFromStandardInput(name: String) throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIFailure.usage("--\(name)-stdin was given but standard input is empty.")
        }
        return line
    }

    static func prompt(_ label: String, flag: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIFailure.usage("The \(label) is needed: pass \(flag) and pipe it in, or run in a terminal to be asked.")
        }
        FileHandle.standardError.write(Data("\(label): ".utf8))
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIFailure.usage("No \(label) was entered.")
        }
        return line
    }
}
