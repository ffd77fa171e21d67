import Logging
import ServiceLifecycle
import Synchronization

/// Turns the failure of one of the server's services into a graceful shutdown of the whole
/// server, instead of the cancellation that a service group answers a failure with.
///
/// A cancelled HTTP server can crash the process: NIO traps ("Deinited NIOAsyncWriter without
/// calling finish()") when a connection it accepted is still waiting to be served
/// (apple/swift-nio#3481). A node that finds another live node with its name stopped exactly
/// that way while a client connected. Under `BerthServer.run()`, a failing service logs its error,
/// shuts the server down gracefully (connections are served and closed, tasks handed over), and
/// `run()` then throws that error, so the process still exits non-zero. Without `run()` (the
/// in-process tests, which run `application` themselves) a failure is thrown as before.
final class ServerStop: Sendable {
    private struct State {
        var trigger: (@Sendable () async -> Void)?
        var failure: (any Error)?
    }

    private let state = Mutex(State())

    /// Makes failures shut the server down through `trigger` (the group `BerthServer.run()` runs).
    func arm(_ trigger: @escaping @Sendable () async -> Void) {
        state.withLock { $0.trigger = trigger }
    }

    /// The first failure that shut the server down, if one did.
    var failure: (any Error)? { state.withLock { $0.failure } }

    /// Records `error` as the reason the server stops; returns the trigger that stops it, or nil
    /// when nothing is armed (the caller throws then).
    fileprivate func fail(with error: any Error) -> (@Sendable () async -> Void)? {
        state.withLock { state in
            guard let trigger = state.trigger else { return nil }
            if state.failure == nil { state.failure = error }
            return trigger
        }
    }
}

/// A service of the server whose failure stops the server gracefully (`ServerStop`).
struct StopsServerOnFailure: Service, CustomStringConvertible {
    let service: any Service
    let stop: ServerStop
    let logger: Logger

    var description: String { "\(service)" }

    func run() async throws {
        do {
            try await service.run()
        } catch {
            // Cancelled: the group is stopping already, and says why itself.
            guard !Task.isCancelled, let trigger = stop.fail(with: error) else { throw error }
            logger.error("The server stops: \(error)")
            await trigger()
            // Return in turn, like every other service, once the shutdown reaches this one.
            do {
                try await gracefulShutdown()
            } catch {
                // Cancelled while waiting: the shutdown has gone past this service already.
            }
        }
    }
}
