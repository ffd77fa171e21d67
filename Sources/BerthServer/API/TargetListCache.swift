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
///
/// The cache is bounded in bytes (`Storage.defaultByteBudget`), least recently used first out, so a
/// client walking many large pages cannot make the server hold them all. A request with
/// `Cache-Control: no-cache` is answered from the database (and refreshes the entry).
struct TargetListCache: ServerMiddleware {
    let store: BerthStore
    let spaces: SpaceIDs
    let storage: Storage

    init(store: BerthStore, spaces: SpaceIDs, byteBudget: Int = Storage.defaultByteBudget) {
        self.store = store
        self.spaces = spaces
        self.storage = Storage(byteBudget: byteBudget)
    }

    actor Storage {
        struct Entry {
            var revision: Int
            var response: HTTPResponse
            var body: [UInt8]
            var lastUsed: UInt64 = 0
        }

        /// 4 MiB: a few pages of 1,000 targets, hundreds of pages of 100 — the pages that are asked
        /// for again and again; a client walking every page gains little from keeping the rest.
        static let defaultByteBudget = 4 << 20

        let byteBudget: Int
        private(set) var bytes = 0
        private var entries: [String: Entry] = [:]
        private var clock: UInt64 = 0

        init(byteBudget: Int) { self.byteBudget = byteBudget }

        var count: Int { entries.count }

        func entry(_ key: String) -> Entry? {
            guard var entry = entries[key] else { return nil }
            clock += 1
            entry.lastUsed = clock
            entries[key] = entry
            return entry
        }

        /// Files `entry` under `key`, evicting the least recently used entries until the bodies fit
        /// the budget. A body larger than a quarter of the budget is not kept at all.
        func store(_ entry: Entry, for key: String) {
            if let old = entries.removeValue(forKey: key) { bytes -= old.body.count }
            guard entry.body.count <= byteBudget / 4 else { return }
            while bytes + entry.body.count > byteBudget, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                bytes -= oldest.value.body.count
                entries.removeValue(forKey: oldest.key)
            }
            clock += 1
            var entry = entry
            entry.lastUsed = clock
            entries[key] = entry
            bytes += entry.body.count
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
        guard let spaceID = try await spaces.id(of: reference) else { return try await next(request, body, metadata) }
        // Read the revision before the data: an answer is never older than the revision it is filed under.
        let revision = try await store.revision(spaceID: spaceID)
        let key = spaceID + " " + path
        let mayUseCache = !request.headerFields[values: .cacheControl].contains { $0.lowercased().contains("no-cache") }
        if mayUseCache, let entry = await storage.entry(key), entry.revision == revision {
            return (entry.response, HTTPBody(entry.body))
        }
        let (response, responseBody) = try await next(request, body, metadata)
        guard response.status == .ok, let responseBody else { return (response, responseBody) }
        let bytes = try await [UInt8](collecting: responseBody, upTo: 64 << 20)
        await storage.store(Storage.Entry(revision: revision, response: response, body: bytes), for: key)
        return (response, HTTPBody(bytes))
    }
}
