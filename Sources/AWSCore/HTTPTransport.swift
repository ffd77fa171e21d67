import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP exchange, with the whole body in memory (AWS control-plane calls are small).
public struct AWSHTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct AWSHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Sends HTTP requests. Failures to get an answer are `AWSClientError` with the code
/// `connectionFailed` or `timedOut`, so the retry policy can tell them apart.
public protocol HTTPTransport: Sendable {
    func send(_ request: AWSHTTPRequest, timeout: Duration) async throws -> AWSHTTPResponse
}

/// The transport over AsyncHTTPClient.
public struct AsyncHTTPTransport: HTTPTransport {
    public let client: HTTPClient
    /// Answers larger than this are refused rather than buffered.
    public var maxResponseBytes: Int

    public init(client: HTTPClient = AsyncHTTPTransport.sharedClient, maxResponseBytes: Int = 16 << 20) {
        self.client = client
        self.maxResponseBytes = maxResponseBytes
    }

    public static let shared = AsyncHTTPTransport()

    /// A process-wide client that fails a connection attempt at once instead of retrying it until
    /// the deadline (AsyncHTTPClient's default): the retry policy decides about retries, and an
    /// unreachable endpoint is reported in milliseconds, not after the request timeout.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public func send(_ request: AWSHTTPRequest, timeout: Duration) async throws -> AWSHTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        let host = URLComponents(string: request.url)?.host ?? request.url
        do {
            let response = try await client.execute(outgoing, timeout: .nanoseconds(Int64(timeout.timeInterval * 1e9)))
            let body = try await response.body.collect(upTo: maxResponseBytes)
            return AWSHTTPResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: Array(buffer: body))
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
        {
            throw AWSClientError(.timedOut, "\(host) did not answer within \(Self.describe(timeout)).")
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as AWSClientError {
            throw error
        } catch {
            throw AWSClientError(.connectionFailed, "Could not reach \(host): \(error).")
        }
    }

    public static func describe(_ duration: Duration) -> String {
        let seconds = duration.timeInterval
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(Int(seconds * 1000)) ms"
    }
}
