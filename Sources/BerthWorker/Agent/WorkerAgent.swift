import AWSCore
import BerthDomain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// `berth worker run`: long-polls the server for its pool's step jobs and runs up to `concurrency`
/// at once, each through a ``RemoteJobHost``. Only outbound connections: the worker needs no open
/// port. A graceful shutdown stops claiming and hands the running jobs back (they are left as
/// they are in AWS; another worker of the pool carries them on once their leases run out).
public struct WorkerAgent: Service {
    let client: JobProtocolClient
    let worker: StepWorker
    let name: String
    let concurrency: Int
    let logger: Logger

    /// How long a failed claim waits before the next (the server may be restarting).
    static let retryAfterFailure: Duration = .seconds(2)
    /// How often a running job's new lines are sent (a job with none sends nothing until its
    /// heartbeat): short enough that a line reaches an open task page well within 250 ms.
    static let flushInterval: Duration = .milliseconds(100)
    /// A job with nothing to say still renews its lease this often, or three times per lease
    /// when the server's lease is shorter than 15 s.
    static func heartbeat(lease seconds: Int) -> Duration { min(.seconds(5), .milliseconds(seconds * 1000 / 3)) }

    public init(client: JobProtocolClient, worker: StepWorker, name: String, concurrency: Int, logger: Logger) {
        self.client = client
        self.worker = worker
        self.name = name
        self.concurrency = concurrency
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "The worker is waiting for jobs", metadata: ["worker.name": "\(name)", "server": "\(client.server.absoluteString)"])
        // One claim at a time, whenever a slot is free: an idle worker holds one long poll, not one per slot.
        let running = RunningCount()
        let (freed, free) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        // A refused credential stops the claims; the running jobs hear it too and are left to others.
        var refused: (any Error)?
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                if running.value >= concurrency {
                    await cancelWhenGracefulShutdown {
                        for await _ in freed { return }
                    }
                    continue
                }
                let claimed: JobProtocol.ClaimResponse?
                do {
                    claimed = try await claim()
                } catch {
                    refused = error
                    break
                }
                guard let claimed else { continue }
                running.add(1)
                group.addTask {
                    await runJob(claimed)
                    running.add(-1)
                    free.yield()
                }
            }
        }
        if let refused { throw refused }
        logger.info("The worker stopped", metadata: ["worker.name": "\(name)"])
    }

    /// A job, or nil when none came within the long poll, the server could not be asked (it is
    /// asked again shortly), or the worker is shutting down.
    /// - Throws: when the server refuses the worker's credential (the worker was deleted).
    func claim() async throws -> JobProtocol.ClaimResponse? {
        do {
            return try await cancelWhenGracefulShutdown { try await client.claim(version: BerthVersion.current) }
        } catch let failure as JobProtocolClient.Failure where failure.status == 401 {
            throw BerthError(.unauthorized, "The server refused this worker: \(failure.message)")
        } catch {
            if Task.isShuttingDownGracefully || Task.isCancelled { return nil }
            logger.warning(
                "Asking the server for a job failed; trying again", metadata: ["error": "\(String(describing: error))"])
            try? await Task.sleep(for: Self.retryAfterFailure)
            return nil
        }
    }

    /// Runs one job to its outcome and reports it; a job that was lost, or handed back at
    /// shutdown, reports nothing.
    func runJob(_ claimed: JobProtocol.ClaimResponse) async {
        let job = claimed.job
        let metadata: Logger.Metadata = ["job.id": "\(claimed.jobID)", "task.id": "\(job.taskID)", "job.step": "\(job.stepName)"]
        logger.info("Running a job", metadata: metadata)
        let host = RemoteJobHost(
            jobID: claimed.jobID, job: job, client: client, lockRetry: worker.configuration.deploymentPollInterval,
            logger: logger)
        await host.log.write(
            .info, section: job.logSection,
            "On the worker \(name) (berth \(BerthVersion.current), \(ProcessInfo.processInfo.hostName)).")
        let stop = WorkStop()
        let outcome = await withGracefulShutdownHandler {
            await withTaskGroup(of: StepOutcome?.self) { group in
                group.addTask { await WorkStop.$ofCurrentTask.withValue(stop) { await worker.run(job, host: host) } }
                group.addTask {
                    await keepAlive(host, stop: stop, lease: .seconds(claimed.leaseSeconds), metadata: metadata)
                    return nil
                }
                var outcome: StepOutcome?
                while let result = await group.next() {
                    // The first to end decides: the job (its outcome), or its stop (the job is cancelled).
                    if let result { outcome = result }
                    group.cancelAll()
                }
                return outcome
            }
        } onGracefulShutdown: {
            stop.stop(.handedOver)
        }
        guard stop.current != .handedOver, let outcome else {
            logger.info("Left the job to another worker", metadata: metadata)
            return
        }
        await report(outcome, host: host, metadata: metadata)
    }

    /// Sends the job's lines every ``flushInterval`` and hears what the server says of the job:
    /// a cancel stops it as a cancel, a lost lease as a handover. Returns when it stops the job,
    /// or when cancelled (the job ended).
    /// A worker that cannot reach the server for a whole lease stops the job as a handover: by
    /// then the node has given it to another worker.
    func keepAlive(_ host: RemoteJobHost, stop: WorkStop, lease: Duration, metadata: Logger.Metadata) async {
        let heartbeat = Self.heartbeat(lease: Int(lease.components.seconds))
        var lastContact = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: Self.flushInterval)
            } catch {
                return
            }
            if stop.current != nil { return }
            guard await host.lines.hasPending || ContinuousClock.now - lastContact >= heartbeat else { continue }
            do {
                switch try await host.flush() {
                case .held:
                    lastContact = .now
                case .cancel:
                    logger.info("The server asked to cancel the job", metadata: metadata)
                    stop.stop(.cancelled)
                    return
                case .lost:
                    logger.warning("The job is no longer this worker's; stopping it", metadata: metadata)
                    stop.stop(.handedOver)
                    return
                }
            } catch {
                if ContinuousClock.now - lastContact >= lease {
                    logger.warning(
                        "The server has not been reached for a whole lease; leaving the job to another worker",
                        metadata: metadata.merging(["error": "\(error)"]) { $1 })
                    stop.stop(.handedOver)
                    return
                }
                logger.warning(
                    "Sending the job's log failed; trying again", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
        }
    }

    /// Sends the last lines and the outcome, trying again for a while if the server is away.
    func report(_ outcome: StepOutcome, host: RemoteJobHost, metadata: Logger.Metadata) async {
        for attempt in 1...15 {
            do {
                _ = try await host.flush()
                try await client.finish(host.jobID, outcome: outcome)
                logger.info("Finished a job", metadata: metadata.merging(["job.state": "\(outcome.state.rawValue)"]) { $1 })
                return
            } catch let failure as JobProtocolClient.Failure where failure.isConflict {
                logger.warning("The job was no longer this worker's when it ended; its outcome is not taken", metadata: metadata)
                return
            } catch {
                logger.warning(
                    "Reporting the job's outcome failed; trying again",
                    metadata: metadata.merging(["error": "\(error)", "attempt": "\(attempt)"]) { $1 })
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }
}

/// How many jobs the worker runs now.
final class RunningCount: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }
    func add(_ change: Int) { count.withLock { $0 += change } }
}
