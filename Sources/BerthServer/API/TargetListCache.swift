import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Serves target listings from memory while nothing they show has changed.
///
/// A listing is the API's busiest read (UIs and scripts poll it) and its cost is almost all JSON
/// encoding. Every write that a listing shows bumps the space's revision in the same transaction
/// (`BerthStore.revision(spaceID:)`), so one tiny query tells whether the encoded answer is still
/// right — on every server node, since the revision lives in the database.
struct TargetListCache: ServerMiddleware {
    let store: BerthStore
    let storage = Storage()

    actor Storage {
        struct Entry {
            var revision: Int
            var response: HTTPResponse
            var body: [UInt8]
        }

        static let capacity = 512
        private var entries: [String: Entry] = [:]
        /// Space reference (id or name) → id. Spaces are never renamed or deleted.
        private var spaces: [String: String] = [:]

        func entry(_ key: String) -> Entry? { entries[key] }

        func store(_ entry: Entry, for key: String) {
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }

        func spaceID(_ reference: String) -> String? { spaces[reference] }

        func remember(space id: String, as reference: String) {
            if spaces.count >= Self.capacity { spaces.removeAll(keepingCapacity: true) }
            spaces[reference] = id
        }
    }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "listTargets", let parameter = metadata.pathParameters["space"], let path = request.path else {
            return try await next(request, body, metadata)
        }
        // Path parameters arrive percent-encoded.
        let reference = String(parameter).removingPercentEncoding ?? String(parameter)
        var spaceID = await storage.spaceID(reference)
        if spaceID == nil, let space = try await store.findSpace(reference) {
            await storage.remember(space: space.id, as: reference)
            spaceID = space.id
        }
        guard let spaceID else { return try await next(request, body, metadata) }
        // Read the revision before the data: an answer is never older than the revision it is filed under.
        let revision = try await store.revision(spaceID: spaceID)
        let key = spaceID + " " + path
        if let entry = await storage.entry(key), entry.revision == revision {
            return (entry.response, HTTPBody(entry.body))
        }
        let (response, responseBody) = try await next(request, body, metadata)
        guard response.status == .ok, let responseBody else { return (response, responseBody) }
        let bytes = try await [UInt8](collecting: responseBody, upTo: 64 << 20)
        await storage.store(Storage.Entry(revision: revision, response: response, body: bytes), for: key)
        return (response, HTTPBody(bytes))
    }
}
