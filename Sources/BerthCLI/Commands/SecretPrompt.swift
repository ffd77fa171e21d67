import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a secret without echoing it, or the whole of standard input when asked to (`--…-stdin`).
enum SecretPrompt {
    /// All of standard input: a PEM key or a JSON document keeps every line.
    static func readFromStandardInput(name: String) throws -> String {
        try value(of: FileHandle.standardInput.readDataToEndOfFile(), flag: "--\(name)-stdin")
    }

    /// The text of `data` without one trailing newline (`\n` or `\r\n`, as `echo` and editors end a
    /// file), which is not part of the secret; any other whitespace is kept.
    static func value(of data: Data, flag: String) throws -> String {
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure.usage("\(flag) was given but standard input is not UTF-8 text.")
        }
        var value = Substring(text)
        if value.hasSuffix("\r\n") {
            value = value.dropLast(2)
        } else if value.hasSuffix("\n") {
            value = value.dropLast()
        }
        guard !value.isEmpty else {
            throw CLIFailure.usage("\(flag) was given but standard input is empty.")
        }
        return String(value)
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
