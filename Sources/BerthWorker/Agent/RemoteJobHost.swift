import AWSCore
import BerthDomain
import Foundation
import Logging

/// A job's host on an external worker: the job protocol to the server. Log lines are masked here
/// (the job's secrets and every credential resolved for it) and sent in batches that also renew
/// the job's lease; progress is sent at once, after the lines before it.
public final class RemoteJobHost: StepJobHost {
    public let jobID: String
    let client: JobProtocolClient
    let lines: RemoteJobLog
    let lockRetry: Duration
    let logger: Logger
    let flushing = OneAtATime()

    public var log: any StepJobLog { lines }

    init(jobID: String, job: StepJob, client: JobProtocolClient, lockRetry: Duration, logger: Logger) {
        self.jobID = jobID
        self.client = client
        self.lines = RemoteJobLog(masker: LogMasker(secrets: job.sensitiveValues))
        self.lockRetry = lockRetry
        self.logger = logger
    }

    public func record(_ progress: StepProgress) async throws {
        _ = try await flush()
        do {
            try await client.record(jobID, progress: progress)
        } catch let failure as JobProtocolClient.Failure where failure.isConflict {
            throw BerthError(.conflict, "This worker no longer holds the job; it stops working on it.")
        }
    }

    public func withServiceLock<Result: Sendable>(
        _ key: String, waitAtMost limit: Duration, log: LogSection, _ body: () async throws -> Result
    ) async throws -> Result {
        let started = ContinuousClock.now
        var reported = false
        while true {
            let answer = try await client.lock(jobID, key: key, release: false)
            if answer.held { break }
            if !reported {
                await log.warning(
                    "Waiting: task \(answer.holder ?? "?") is deploying the same service (\(key)); deployments of one service never interleave."
                )
                reported = true
            }
            if ContinuousClock.now - started >= limit {
                throw BerthError(
                    .conflict,
                    "The service \(key) is still being deployed by task \(answer.holder ?? "?") after \(Int(limit.timeInterval)) s; try again when it has finished."
                )
            }
            try await Task.sleep(for: lockRetry)
        }
        if reported { await log.info("The other deployment of \(key) has finished; going ahead.") }
        do {
            let result = try await body()
            await release(key)
            return result
        } catch {
            // Handed over, the task keeps its lock for the worker that carries the step on.
            if !WorkStop.isHandingOver { await release(key) }
            throw error
        }
    }

    /// Releases a service lock; one that cannot be released is released by the server when the
    /// deployment ends.
    func release(_ key: String) async {
        do {
            _ = try await client.lock(jobID, key: key, release: true)
        } catch {
            logger.warning(
                "A service lock could not be released", metadata: ["job.id": "\(jobID)", "error": "\(error)"])
        }
    }

    public func askPerson(subject: String, instructions: String) async throws -> QuestionState {
        do {
            return try await client.ask(jobID, JobProtocol.AskRequest(subject: subject, instructions: instructions))
        } catch let failure as JobProtocolClient.Failure where failure.isConflict {
            throw BerthError(.conflict, "This worker no longer holds the job; it stops working on it.")
        }
    }

    public func withdrawQuestion(subject: String) async throws {
        _ = try await client.ask(jobID, JobProtocol.AskRequest(subject: subject, instructions: "", withdraw: true))
    }

    public func freshWebIdentityToken() async throws -> String {
        let token = try await client.token(jobID)
        await lines.addSensitive([token])
        return token
    }

    /// Sends the pending lines (or, with none, renews the lease), one flush at a time, so that
    /// lines arrive in order and before the progress that follows them. - Returns: what the
    /// server says of the job.
    func flush() async throws -> JobProtocol.LeaseState {
        await flushing.enter()
        do {
            let state = try await flushPending()
            await flushing.leave()
            return state
        } catch {
            await flushing.leave()
            throw error
        }
    }

    private func flushPending() async throws -> JobProtocol.LeaseState {
        var state = JobProtocol.LeaseState.held
        repeat {
            let batch = await lines.take()
            do {
                state = try await client.sendLog(jobID, lines: batch)
            } catch let failure as JobProtocolClient.Failure where failure.isConflict {
                return .lost
            } catch {
                await lines.putBack(batch)
                throw error
            }
        } while await lines.hasPending
        return state
    }
}

/// A remote job's log lines waiting to be sent, masked as they are written.
actor RemoteJobLog: StepJobLog {
    /// The most lines (and bytes) one request carries.
    static let batchLines = 200
    static let batchBytes = 256 * 1024
    /// The longest line sent, in bytes; the server cuts at the same length.
    static let maximumLineBytes = 16 * 1024

    private var masker: LogMasker
    private var pending: [StepJobLogLine] = []

    init(masker: LogMasker) { self.masker = masker }

    func write(_ level: LogLevel, section: String?, _ message: String) {
        var text = masker.mask(message)
        if text.utf8.count > Self.maximumLineBytes {
            text = String(decoding: text.utf8.prefix(Self.maximumLineBytes), as: UTF8.self)
        }
        pending.append(StepJobLogLine(level: level, section: section, message: text))
    }

    func addSensitive(_ values: [String]) { masker = masker.adding(values) }

    var hasPending: Bool { !pending.isEmpty }

    func take() -> [StepJobLogLine] {
        var bytes = 0
        var count = 0
        for line in pending {
            bytes += line.message.utf8.count
            if count > 0, count >= Self.batchLines || bytes > Self.batchBytes { break }
            count += 1
        }
        defer { pending.removeFirst(count) }
        return Array(pending.prefix(count))
    }

    func putBack(_ lines: [StepJobLogLine]) { pending.insert(contentsOf: lines, at: 0) }
}

/// Lets one caller in at a time, the others waiting in order.
actor OneAtATime {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
