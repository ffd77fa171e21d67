import Foundation

/// Writes a line to stdout at once, unbuffered: a long-running server's first lines (the API key,
/// the address) must show even when its output goes to a pipe or a file.
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
