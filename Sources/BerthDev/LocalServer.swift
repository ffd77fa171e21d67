import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Runs a Hummingbird router on a free loopback port for the duration of `body`, which gets the
/// server's base URL (`http://127.0.0.1:PORT`). The server stops when `body` returns or throws,
/// even while a handler is still waiting (cancellation ends it).
public func withLocalServer<Value: Sendable>(
    _ router: Router<BasicRequestContext>, _ body: (String) async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Void.self) { group in
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
        group.addTask { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            group.cancelAll()
            throw LocalToolError("the local test server did not start")
        }
        do {
            let value = try await body("http://127.0.0.1:\(port)")
            group.cancelAll()
            return value
        } catch {
            group.cancelAll()
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
