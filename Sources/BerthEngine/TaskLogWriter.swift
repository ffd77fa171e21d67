import BerthDomain
import BerthStore
import Foundation

/// Writes a task's log: every line masked against every sensitive value in scope, numbered, and
/// stored at once so that followers see it live.
public actor TaskLogWriter {
    public let taskID: String
    let store: BerthStore
    let clock: @Sendable () -> Date
    private var masker: LogMasker
    private var sequence = 0

    init(taskID: String, store: BerthStore, masker: LogMasker = LogMasker(), clock: @escaping @Sendable () -> Date) {
        self.taskID = taskID
        self.store = store
        self.masker = masker
        self.clock = clock
    }

    /// From now on, `secrets` are masked too.
    public func addSensitive(_ secrets: [String]) {
        masker = masker.adding(secrets)
    }

    public func mask(_ text: String) -> String { masker.mask(text) }

    public func info(_ message: String) async { await write(.info, message) }
    public func verbose(_ message: String) async { await write(.verbose, message) }
    public func warning(_ message: String) async { await write(.warning, message) }
    public func error(_ message: String) async { await write(.error, message) }

    public func write(_ level: LogLevel, section: String? = nil, _ message: String) async {
        let line = nextLine(level, message, section: section)
        // A log line that cannot be stored must not fail the work it describes; the final
        // outcome is written in the task's closing transaction.
        try? await store.appendLog(taskID: taskID, [line])
    }

    /// A numbered, masked line that the caller stores itself (the closing line of a task).
    func nextLine(_ level: LogLevel, _ message: String, section: String? = nil) -> TaskLogLine {
        sequence += 1
        return TaskLogLine(sequence: sequence, time: clock(), level: level, message: masker.mask(message), section: section)
    }

    /// A view of this log whose lines belong to `name` (a step on a target).
    public nonisolated func section(_ name: String) -> LogSection { LogSection(writer: self, name: name) }

    /// A masked copy of `text` for fields stored outside the log (the task's error message).
    func masked(_ text: String?) -> String? { text.map(masker.mask) }
}

/// The lines of one step on one target: the same numbering and masks as the whole log, tagged
/// with the section's name so that readers can group them.
public struct LogSection: Sendable {
    public let writer: TaskLogWriter
    public let name: String

    public func info(_ message: String) async { await writer.write(.info, section: name, message) }
    public func verbose(_ message: String) async { await writer.write(.verbose, section: name, message) }
    public func warning(_ message: String) async { await writer.write(.warning, section: name, message) }
    public func error(_ message: String) async { await writer.write(.error, section: name, message) }
    public func write(_ level: LogLevel, _ message: String) async { await writer.write(level, section: name, message) }
}
