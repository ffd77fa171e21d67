import BerthDomain
import BerthEngine
import BerthWorker
import CBerthSandbox
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Runs this node's built-in worker as a separate process (``BuiltInWorkerLaunch``) for as long
/// as the node runs: registers it with a new credential each time it starts (the credential goes
/// to the process on standard input, nowhere else), starts it again when it ends by itself, and
/// stops it on shutdown — a graceful one first (it hands its running jobs back), then a kill.
/// A worker that cannot be started at all (no user namespaces, say) stops the server with the
/// reason: a node whose default pool would wait forever is worse than one that does not start.
struct BuiltInWorkerSupervisor: Service {
    let jobs: StepJobService
    let launch: BuiltInWorkerLaunch
    let settings: BuiltInWorkerSettings
    let node: String
    /// The server's loopback URL, known once it listens, and its certificate when it serves HTTPS.
    let address: BoundAddress
    let certificatePEM: String?
    let nodeStarted: NodeStarted
    let logger: Logger

    /// How long a worker asked to stop may take to hand its jobs back before it is killed.
    static let stopGrace: Duration = .seconds(10)
    /// Pauses between restarts of a worker that keeps ending: 1 s, doubling up to a minute.
    static func restartDelay(after failures: Int) -> Duration { .seconds(min(60, 1 << min(failures, 6))) }

    func run() async throws {
        // Not before this process holds its node name: a second process started by mistake with a
        // live node's name must not take that node's built-in worker from it.
        let started = await cancelWhenGracefulShutdown { await nodeStarted.wait() }
        guard started, let server = await address.url() else { return }
        for failure in BuiltInWorkerLaunch.removeAbandonedHomes(in: launch.home.deletingLastPathComponent()) {
            logger.warning("A home that an earlier built-in worker left could not be removed: \(failure)")
        }
        try launch.createHome()
        defer {
            do {
                try FileManager.default.removeItem(at: launch.home)
            } catch {
                logger.warning("The built-in worker's home \(launch.home.path) could not be removed: \(error)")
            }
        }
        if let owner = launch.owner { try ScriptUIDLocks.prepareShared(owner: owner.uid, group: owner.gid) }
        var failures = 0
        var first = true
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            let ended: String
            do {
                ended = "ended by itself (exit status \(try await runOnce(server: server)))"
            } catch {
                // The first start failing says the worker cannot run here: the server stops with why.
                // Later, a passing failure (the database, a fork) is worth another try.
                if first || Task.isCancelled { throw error }
                ended = "could not be started again (\(error))"
            }
            first = false
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            failures = ContinuousClock.now - started > .seconds(60) ? 0 : failures + 1
            let delay = Self.restartDelay(after: failures)
            logger.error(
                "The built-in worker \(ended); starting it again in \(delay.components.seconds) s",
                metadata: ["worker.name": "\(Worker.builtInName(node: node))"])
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
        }
    }

    /// Starts the worker, hands it its credential and waits for its end. - Returns: its exit status.
    private func runOnce(server: URL) async throws -> Int32 {
        let (worker, credential) = try await jobs.registerBuiltInWorker(node: node)
        let handoff = try JSONEncoder().encode(
            BuiltInWorkerHandoff(
                server: server.absoluteString, credential: credential, name: worker.name, certificatePEM: certificatePEM))
        var input: [Int32] = [0, 0]
        guard berth_cloexec_pipe(&input) == 0 else {
            throw BerthError(
                .internalError, "A pipe for the built-in worker cannot be made: \(String(cString: strerror(errno))).")
        }
        let process: SandboxedProcess
        do {
            defer { close(input[0]) }
            process = try SandboxedProcess.start(
                executable: settings.executable, arguments: launch.arguments, environment: launch.environment,
                workingDirectory: launch.home.path, standardInput: input[0], isolation: launch.isolation)
        } catch {
            close(input[1])
            throw error
        }
        // A few hundred bytes: the pipe's buffer takes them without blocking.
        let written = handoff.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
        close(input[1])
        guard written == handoff.count else {
            process.kill()
            throw BerthError(.internalError, "The built-in worker could not be given its credential.")
        }
        logger.info(
            "The built-in worker started",
            metadata: [
                "worker.name": "\(worker.name)", "worker.pid": "\(process.pid)",
                "worker.isolation": "\(launch.isolation == .none ? "own session" : "own user, PID and mount namespaces")",
            ])
        return await withTaskCancellationHandler {
            await withTaskGroup(of: Int32?.self) { group in
                group.addTask { await process.waitForExit() }
                group.addTask {
                    do { try await gracefulShutdown() } catch { return nil }
                    process.terminate()
                    try? await Task.sleep(for: Self.stopGrace)
                    process.kill()
                    return nil
                }
                var status: Int32 = 0
                for await ended in group {
                    if let ended {
                        status = ended
                        group.cancelAll()
                    }
                }
                return status
            }
        } onCancel: {
            process.kill()
        }
    }
}

/// The server's address for its built-in worker, once the server listens: a loopback URL when it
/// listens on every interface or on loopback, else its own listen address.
final class BoundAddress: Sendable {
    private let stream: AsyncStream<URL>
    private let continuation: AsyncStream<URL>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: URL.self, bufferingPolicy: .bufferingNewest(1))
    }

    func listening(host: String, port: Int, tls: Bool) {
        let reachable =
            switch host {
            case "0.0.0.0", "", "localhost": "127.0.0.1"
            case "::", "::0": "[::1]"
            default: host.contains(":") ? "[\(host)]" : host
            }
        if let url = URL(string: "\(tls ? "https" : "http")://\(reachable):\(port)") { continuation.yield(url) }
    }

    /// The URL, or nil when the node stopped before it listened.
    func url() async -> URL? {
        for await url in stream { return url }
        return nil
    }
}
