import BerthDomain
import BerthStore
import BerthWorker
import Foundation
import Logging

/// Writes a task's log: every line masked against every sensitive value in scope, cut at 16 KiB,
/// numbered, and handed to the engine's `LogSink`, which stores the lines of all tasks together
/// within a tenth of a second so that followers see them live. A log keeps at most `lineLimit`
/// lines; later ones are counted, and the closing lines say what was dropped.
public actor TaskLogWriter: StepJobLog {
    /// The longest line kept, in bytes of UTF-8; a longer one is cut and says so.
    public static let maximumLineBytes = 16 * 1024

    public let taskID: String
    let sink: LogSink
    let clock: @Sendable () -> Date
    let lineLimit: Int
    private var masker: LogMasker
    private var sequence = 0
    private var dropped = 0
    private var droppedProblems = 0

    /// - Parameter after: the number of the task's last line so far (a task adopted from a node
    ///   that stopped has some); the limit counts them too.
    init(
        taskID: String, sink: LogSink, masker: LogMasker = LogMasker(), lineLimit: Int = 100_000, after: Int = 0,
        clock: @escaping @Sendable () -> Date
    ) {
        self.taskID = taskID
        self.sink = sink
        self.masker = masker
        self.lineLimit = lineLimit
        self.sequence = after
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
        guard sequence < lineLimit else {
            dropped += 1
            if level == .warning || level == .error { droppedProblems += 1 }
            return
        }
        await sink.append(taskID: taskID, nextLine(level, message, section: section))
    }

    /// A numbered, masked line that the caller stores itself (the closing line of a task).
    func nextLine(_ level: LogLevel, _ message: String, section: String? = nil) -> TaskLogLine {
        sequence += 1
        // Masked before it is cut, so that a cut never leaves part of a secret unmasked.
        let text = Self.cut(masker.mask(message))
        return TaskLogLine(sequence: sequence, time: clock(), level: level, message: text, section: section)
    }

    /// The line that says what the line limit dropped, when it dropped anything: stored with the
    /// closing line, so it is the log's last word but one.
    func droppedLinesNotice() -> TaskLogLine? {
        guard dropped > 0 else { return nil }
        let problems = droppedProblems == 0 ? "" : ", \(droppedProblems) of them warnings or errors"
        return nextLine(
            .warning,
            "The log reached its limit of \(lineLimit) lines (--max-task-log-lines): \(dropped) later lines were dropped\(problems)."
        )
    }

    /// `message` cut to `maximumLineBytes` of UTF-8 on a character boundary, with a marker that
    /// says how much was cut.
    static func cut(_ message: String) -> String {
        let total = message.utf8.count
        guard total > maximumLineBytes else { return message }
        var kept = 0
        var end = message.startIndex
        for index in message.indices {
            let next = message.index(after: index)
            let size = message.utf8.distance(from: index, to: next)
            if kept + size > maximumLineBytes { break }
            kept += size
            end = next
        }
        return String(message[..<end]) + " … [line cut: \(total - kept) of its \(total) bytes not shown]"
    }

    /// A view of this log whose lines belong to `name` (a step on a target).
    public nonisolated func section(_ name: String) -> LogSection { LogSection(writer: self, name: name) }

    /// A masked copy of `text` for fields stored outside the log (the task's error message).
    func masked(_ text: String?) -> String? { text.map(masker.mask) }
}

/// Stores the log lines of every running task in batches: one transaction per flush instead of one
/// per line, which is what lets fifty deployments log at once without queueing on the database.
/// A flush happens a tenth of a second after the first pending line (``run()``, a child task of
/// the ``TaskRunner`` service), at 500 pending lines, and before a task's closing transaction.
actor LogSink {
    let store: BerthStore
    /// Lines are stored only for tasks this node still holds.
    let owner: TaskOwner?
    let logger: Logger
    private var pending: [(String, TaskLogLine)] = []
    private var scheduled = false
    private var lastFlush: Task<Void, Never>?
    /// One element per first pending line since the last flush: wakes ``run()``.
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(store: BerthStore, owner: TaskOwner? = nil, logger: Logger) {
        self.store = store
        self.owner = owner
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func append(taskID: String, _ line: TaskLogLine) async {
        pending.append((taskID, line))
        if pending.count >= 500 {
            await flush()
        } else if !scheduled {
            scheduled = true
            wake.yield()
        }
    }

    /// Flushes 50 ms after each wake-up (lines come in bursts; an open task page should see them
    /// at once), until cancelled (the lines still pending then belong to tasks that flush before
    /// they close).
    func run() async {
        for await _ in wakes {
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                return
            }
            await flush()
        }
    }

    /// Stores everything pending, after every earlier flush (flushes never overtake each other, so
    /// a task's closing line is never stored before its last lines). A log that cannot be stored
    /// must not fail the work it describes; the task's outcome has its own closing transaction.
    func flush() async {
        scheduled = false
        let batch = pending
        pending.removeAll()
        let previous = lastFlush
        let (store, owner, logger) = (self.store, self.owner, self.logger)
        // A task of its own, awaited below and by the next flush: it keeps flushes in order while
        // the actor takes new lines meanwhile.
        let current = Task {
            await previous?.value
            guard !batch.isEmpty else { return }
            do {
                try await store.appendLogs(batch, owner: owner)
            } catch {
                logger.error("Task log lines could not be stored", metadata: ["lines": "\(batch.count)", "error": "\(error)"])
            }
        }
        lastFlush = current
        await current.value
    }
}
