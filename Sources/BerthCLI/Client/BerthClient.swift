import AsyncHTTPClient
import BerthAPI
import Foundation
import HTTPTypes
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// The generated API client with Berth's key, and answers unwrapped: the success body, or a
/// `CLIFailure` that carries the server's error message and the right exit code.
struct BerthClient {
    let client: Client
    let server: String

    init(server: String, apiKey: String) throws {
        let trimmed = server.hasSuffix("/") ? String(server.dropLast()) : server
        guard let url = URL(string: trimmed + "/api"), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw CLIFailure.usage("'\(server)' is not a server URL; use for example http://127.0.0.1:8080")
        }
        self.server = trimmed
        client = Client(
            serverURL: url,
            transport: AsyncHTTPClientTransport(configuration: .init(client: Self.http, timeout: .seconds(30))),
            middlewares: [APIKeyMiddleware(apiKey: apiKey)])
    }

    /// The CLI's HTTP client. A connection that cannot be made fails the call at once ("connection
    /// refused" in milliseconds), instead of being tried again until the call's 30 s are up: a
    /// command that waits on a task (`--follow`) tries again itself, saying so.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Runs one API call; transport failures become "unreachable" (exit 3).
    func call<Output>(_ operation: (Client) async throws -> Output) async throws -> Output {
        do {
            return try await operation(client)
        } catch let error as ClientError {
            if error.underlyingError is DecodingError {
                throw CLIFailure("The server at \(server) answered something this CLI cannot read: \(error.underlyingError)")
            }
            throw CLIFailure(
                "Cannot reach the Berth server at \(server): \(Self.reason(error.underlyingError))",
                exitCode: BerthExitCode.unreachable)
        }
    }

    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("Timeout") || text.contains("timeout") { return "no answer in time" }
        return text
    }

    /// The error of a `default` response as a failure: usage errors (4xx except 401/404/409) exit 2.
    static func failure(_ statusCode: Int, _ response: Components.Responses._Error) -> CLIFailure {
        guard case .json(let body) = response.body else { return CLIFailure("The server answered \(statusCode).") }
        var message = body.error.message
        if statusCode == 401 {
            message += " (Check --api-key, BERTH_API_KEY or `berth login`.)"
        }
        let exitCode = statusCode == 400 ? BerthExitCode.usage : BerthExitCode.failure
        return CLIFailure(message, exitCode: exitCode)
    }
}

/// Adds `Authorization: Bearer <key>` to every request.
struct APIKeyMiddleware: ClientMiddleware {
    let apiKey: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(apiKey)"
        return try await next(request, body, baseURL)
    }
}
