import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird router on a free loopback port for the duration of `body`, which gets the
/// server's base URL (`http://127.0.0.1:PORT`). The server stops when `body` returns or throws:
/// gracefully first (it stops accepting, then finishes the requests in flight), and by cancellation
/// when a handler is still waiting two seconds later.
///
/// Cancelling a NIO server outright can crash the process ("Deinited NIOAsyncWriter without calling
/// finish()", swift-nio #3481) when a connection was accepted but not yet served, which a client's
/// connection pool makes likely; graceful shutdown closes that window first.
public func withLocalServer<Value: Sendable>(
    _ router: Router<BasicRequestContext>, _ body: (String) async throws -> Value
) async throws -> Value {
    let shutdownGrace = Duration.seconds(2)
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    var logger = Logger(label: "berth.test.server")
    logger.logLevel = .critical
    let app = Application(
        router: router,
        configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "berth-test"),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: logger)
    let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        func stop() async {
            await services.triggerGracefulShutdown()
            group.addTask { try await Task.sleep(for: shutdownGrace) }
            // The first to finish: the server (graceful shutdown done) or the grace period.
            _ = try? await group.next()
            group.cancelAll()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await stop()
            throw LocalToolError("the local test server did not start")
        }
        do {
            let value = try await body("http://127.0.0.1:\(port)")
            await stop()
            return value
        } catch {
            await stop()
            throw error
        }
    }
}

/// A failure of a local helper (moto, a simulated service, a free port), not of Berth itself.
public struct LocalToolError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Request {
    /// The body as a string (up to 1 MiB).
    public func bodyText() async throws -> String {
        String(buffer: try await body.collect(upTo: 1 << 20))
    }

    /// The body decoded as an HTML form (`a=1&b=2`).
    public func formParameters() async throws -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in try await bodyText().split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            parameters[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return parameters
    }
}

extension Response {
    /// A response with a text body.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain") -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
