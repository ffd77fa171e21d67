import BerthDomain
import Foundation

/// Where a job's log lines go. Whoever handed the job out masks them against every sensitive value
/// given so far and stores them in the task's log.
public protocol StepJobLog: Sendable {
    func write(_ level: LogLevel, section: String?, _ message: String) async
    /// From now on, `values` are masked too.
    func addSensitive(_ values: [String]) async
}

/// What a running job reports to, and asks of, whoever handed it out: the built-in worker's host
/// talks to the engine directly, an external worker's over the job protocol. Nothing here reaches
/// beyond the one job.
public protocol StepJobHost: Sendable {
    var log: any StepJobLog { get }

    /// Records what the step has done so far on its target (the whole record, as it now stands),
    /// so that another worker or node can carry the step on.
    /// - Throws: when the job is no longer this worker's; the step then stops.
    func record(_ progress: StepProgress) async throws

    /// Runs `body` holding the lock of one ECS service (`key`), so that two deployments of a
    /// service never interleave; waits for another holder at most `limit`, saying so in `log`.
    func withServiceLock<Result: Sendable>(
        _ key: String, waitAtMost limit: Duration, log: LogSection, _ body: () async throws -> Result
    ) async throws -> Result

    /// A new OIDC token for the job's web identity, when the credentials the job's first token
    /// bought run out before the job ends.
    func freshWebIdentityToken() async throws -> String

    /// Asks a person, as a manual intervention on the job's task (`berth task approve|reject`),
    /// unless `subject` was asked before; returns the question as it stands, with its answer once
    /// given. Anyone who may deploy the project to the environment answers.
    func askPerson(subject: String, instructions: String) async throws -> QuestionState

    /// Withdraws an unanswered question about `subject` (nothing happens to an answered one).
    func withdrawQuestion(subject: String) async throws
}

/// A question for a person as a step sees it: the answer once given, and whether it was asked by
/// this call (not by an earlier run of the step, which already said so in the log).
public struct QuestionState: Codable, Sendable, Hashable {
    /// The question's id (`int-…`), which `berth task approve --question` names.
    public var id: String?
    public var answer: Intervention.Answer?
    public var answeredBy: String?
    public var note: String?
    public var askedNow: Bool

    public init(id: String? = nil, answer: Intervention.Answer?, answeredBy: String?, note: String?, askedNow: Bool) {
        self.id = id
        self.answer = answer
        self.answeredBy = answeredBy
        self.note = note
        self.askedNow = askedNow
    }

    public init(_ intervention: Intervention, askedNow: Bool) {
        self.init(
            id: intervention.id, answer: intervention.answer, answeredBy: intervention.answeredBy, note: intervention.note,
            askedNow: askedNow)
    }
}

/// A named part of a task's log: one step on one target.
public struct LogSection: Sendable {
    public let writer: any StepJobLog
    public let name: String

    public init(writer: any StepJobLog, name: String) {
        self.writer = writer
        self.name = name
    }

    public func info(_ message: String) async { await writer.write(.info, section: name, message) }
    public func verbose(_ message: String) async { await writer.write(.verbose, section: name, message) }
    public func warning(_ message: String) async { await writer.write(.warning, section: name, message) }
    public func error(_ message: String) async { await writer.write(.error, section: name, message) }
    public func write(_ level: LogLevel, _ message: String) async { await writer.write(level, section: name, message) }
}

/// One job's place in the deployment's record of progress: what an earlier run recorded, and a
/// way for the step to record its own. Records go through the host, whole.
public actor StepCheckpoint {
    public nonisolated let key: StepProgress.Key
    /// What an earlier run recorded before its node or worker stopped (nil: nothing, or only that
    /// the step had started).
    public nonisolated let earlier: StepProgress?
    let host: any StepJobHost
    private var current: StepProgress

    public init(job: StepJob, host: any StepJobHost) {
        self.key = job.key
        self.earlier = job.earlier
        self.host = host
        self.current = job.earlier ?? StepProgress()
    }

    /// Changes the record and sends it.
    public func record(_ change: @Sendable (inout StepProgress) -> Void) async throws {
        var progress = current
        change(&progress)
        try await host.record(progress)
        current = progress
    }
}
