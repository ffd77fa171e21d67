import AWSCore
import BerthDomain
import BerthStore
import BerthWorker
import Foundation

/// One step job on an external worker, seen from the node that holds the deployment: queued
/// (sealed) for the pool, then followed until its outcome arrives. What the worker sends is relayed
/// into the task's log, in the job's section; its progress it records in the store itself, under
/// its lease. The node waits for a worker as long as the step's own timeout, saying so in the log.
struct ExternalJobRun {
    let store: BerthStore
    let secrets: SecretBox
    let configuration: EngineConfiguration
    let log: TaskLogWriter
    let section: LogSection
    let pool: WorkerPool
    /// Rung when the job's worker sends something through this node.
    let bell: JobBell

    /// How often the node looks at the job when nothing rings (its worker talks to another node).
    static let followInterval: Duration = .milliseconds(250)
    /// How long a job may wait for a worker before the log says that it waits.
    static let quietWait: Duration = .seconds(1)

    enum Ending {
        case finished(StepOutcome)
        /// The worker stopped renewing its lease; nothing more is taken from it.
        case lost(worker: String)
    }

    /// Queues `envelope` for the pool and follows it.
    func run(_ envelope: StepJobEnvelope, waitAtMost limit: Duration) async throws -> Ending {
        var record = StepJobRecord(
            taskID: envelope.job.taskID, key: envelope.job.key, poolID: pool.id, sealedJob: "",
            createdAt: configuration.clock.now())
        record.sealedJob = try envelope.seal(jobID: record.id, with: secrets)
        try await store.enqueueStepJob(record)
        bell.ring()
        return try await follow(record, waitAtMost: limit)
    }

    /// How long a cancelled deployment's job is still followed, for what its worker says as it
    /// stops the step.
    static let cancelGrace: Duration = .seconds(30)

    /// Follows a queued or running job to its end. When the deployment is cancelled, the job's
    /// worker hears so at its next renewal and stops the step as a cancel does (a Run ECS task
    /// stops its tasks); what it says then is relayed by ``relayAfterCancel(_:)``, which the
    /// runner calls outside the cancelled work.
    func follow(_ queued: StepJobRecord, waitAtMost limit: Duration) async throws -> Ending {
        var relayed = 0
        return try await follow(queued, waitAtMost: limit, relayed: &relayed)
    }

    /// Relays the lines of a cancelled deployment's job until its worker has ended it, for at
    /// most ``cancelGrace``.
    func relayAfterCancel(_ job: StepJobRecord) async {
        var relayed = 0
        var worker = job.workerName
        let deadline = ContinuousClock.now + Self.cancelGrace
        do {
            while ContinuousClock.now < deadline {
                if try await relay(job.id, after: &relayed) { continue }
                guard let record = try await store.stepJob(id: job.id), record.state == .running else {
                    try await relayRest(of: job, after: relayed)
                    return
                }
                worker = record.workerName ?? worker
                await bell.wait(for: job.id, atMost: Self.followInterval)
            }
            await section.warning(
                "The worker \(worker ?? "?") had not ended the cancelled job after \(Int(Self.cancelGrace.timeInterval)) s; its further lines are not kept."
            )
        } catch {
            await section.warning(
                "What the worker \(worker ?? "?") said after the cancel could not all be relayed: \(describe(error))")
        }
    }

    func follow(_ queued: StepJobRecord, waitAtMost limit: Duration, relayed: inout Int) async throws -> Ending {
        let started = configuration.clock.now()
        var reportedWaiting = false
        var reportedWorker: String?
        while true {
            if try await relay(queued.id, after: &relayed) { continue }
            guard let record = try await store.stepJob(id: queued.id) else {
                throw BerthError(.internalError, "The step job \(queued.id) disappeared.")
            }
            let now = configuration.clock.now()
            switch record.state {
            case .queued:
                // An idle worker takes a job within milliseconds: say nothing unless it waits.
                if !reportedWaiting, now.timeIntervalSince(started) >= Self.quietWait.timeInterval {
                    reportedWaiting = true
                    await section.info(try await waitingMessage(at: now))
                }
                if now.timeIntervalSince(started) >= limit.timeInterval,
                    try await store.abandonStepJob(id: record.id, at: now, if: .stillQueued)
                {
                    return .finished(
                        .failed(
                            "no worker in the pool '\(pool.name)' took the job within \(Int(limit.timeInterval)) s (\(try await connectedWorkers(at: now)))."
                        ))
                }
            case .running:
                if reportedWorker != record.workerName {
                    reportedWorker = record.workerName
                    await section.info("The worker \(record.workerName ?? "?") of the pool '\(pool.name)' took the job.")
                }
                if let lease = record.leaseExpiresAt, lease < now,
                    try await store.abandonStepJob(id: record.id, at: now, if: .leaseExpired)
                {
                    try await relayRest(of: record, after: relayed)
                    return .lost(worker: record.workerName ?? "?")
                }
            case .finished:
                try await relayRest(of: record, after: relayed)
                guard let sealed = record.sealedOutcome else {
                    throw BerthError(.internalError, "The step job \(record.id) finished without an outcome.")
                }
                let json = try secrets.open(SealedSecret(ciphertext: sealed), for: .stepJobOutcome(jobID: record.id))
                let outcome = try JSONDecoder().decode(StepOutcome.self, from: Data(json.utf8))
                await log.addSensitive(outcome.sensitiveOutputs.compactMap { outcome.outputs[$0] })
                return .finished(outcome)
            case .abandoned:
                return .lost(worker: record.workerName ?? "?")
            }
            await bell.wait(for: queued.id, atMost: Self.followInterval)
            try Task.checkCancellation()
        }
    }

    /// Writes the job's next lines into the task's log, in the job's section, and forgets them
    /// in the store (a node that adopts the deployment relays only what this one did not).
    /// - Returns: whether more lines are waiting.
    func relay(_ jobID: String, after relayed: inout Int) async throws -> Bool {
        let lines = try await store.stepJobLog(id: jobID, after: relayed)
        guard let last = lines.last?.0 else { return false }
        for (_, line) in lines { await log.write(line.level, section: section.name, line.message) }
        relayed = last
        try await store.deleteStepJobLog(id: jobID, through: last)
        return lines.count == 500
    }

    func relayRest(of record: StepJobRecord, after sequence: Int) async throws {
        var relayed = sequence
        while try await relay(record.id, after: &relayed) {}
    }

    func waitingMessage(at now: Date) async throws -> String {
        "Waiting for a worker in the pool '\(pool.name)': \(try await connectedWorkers(at: now))."
    }

    /// "none connected", "2 connected, all busy"…
    func connectedWorkers(at now: Date) async throws -> String {
        let workers = try await store.listWorkers(spaceID: pool.spaceID).filter { $0.worker.poolID == pool.id }
        let healthy = workers.filter { $0.worker.status(at: now) == .healthy }
        if healthy.isEmpty {
            return "none connected"
                + (workers.isEmpty
                    ? "" : " (\(workers.count) registered, none heard from in \(Int(Worker.unreachableAfter)) s)")
        }
        return "\(healthy.count) connected, all busy"
    }
}
