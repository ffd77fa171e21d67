import BerthStore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Answers `listTargets` with `TargetListJSON` instead of the generated handler's Codable
/// encoding, from the same page (`APIService.targetListing`).
///
/// It takes every request whose query `TargetListQuery` reads exactly as the generated code
/// does and whose `Accept` header, if any, is plainly `application/json` or `*/*`; the others
/// (including the `Accept` headers that the generated code parses, weighs or refuses), and a space
/// that does not exist (whose 404 the handler words), go on to the generated handler, which stays
/// the reference: `TargetListResponderTests` asks both for the
/// same pages and compares the answers byte for byte. Runs after `TargetListCache`, so a fresh
/// answer is cached like any other.
struct TargetListResponder: ServerMiddleware {
    let service: APIService
    let spaces: SpaceIDs

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "listTargets", Self.acceptsJSON(request.headerFields),
            let parameter = metadata.pathParameters["space"], let path = request.path,
            let query = TargetListQuery(percentEncoded: path.firstIndex(of: "?").map { path[path.index(after: $0)...] }),
            let spaceID = try await spaces.id(of: String(parameter).removingPercentEncoding ?? String(parameter))
        else {
            return try await next(request, body, metadata)
        }
        let listing = try await service.targetListing(spaceID: spaceID, query: query)
        var response = HTTPResponse(status: .ok)
        response.headerFields[.contentType] = "application/json; charset=utf-8"
        return (response, HTTPBody(try TargetListJSON.encode(listing)))
    }

    /// No `Accept` header, or only ones that say `application/json` or `*/*` and nothing else.
    static func acceptsJSON(_ fields: HTTPFields) -> Bool {
        fields[values: .accept].allSatisfy { $0 == "application/json" || $0 == "*/*" }
    }
}
