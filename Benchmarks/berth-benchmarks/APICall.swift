import AsyncHTTPClient
import BerthDev
import BerthTestSupport
import Foundation
import NIOCore
import NIOHTTP1

extension BerthServerProcess {
    /// Calls the server's REST API with its API key and returns the body; a status of 300 or more
    /// is an error naming the route and the answer.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, _ json: [String: Any]?, using client: HTTPClient = .shared
    ) async throws -> String {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 16 << 20))
        guard response.status.code < 300 else {
            throw TestSupportError("\(method) \(path) answered \(response.status.code): \(body.prefix(300))")
        }
        return body
    }
}
