import BerthAPI
import BerthDomain
import BerthEngine
import BerthOIDC
import BerthStore
import Foundation

/// The REST API of `openapi.yaml`: each operation checks its input through the domain, changes the
/// store, and answers with the generated types. Errors are thrown as `BerthError` and rendered by
/// `ErrorMiddleware`.
struct APIService: APIProtocol {
    let store: BerthStore
    let engine: Engine
    let secrets: SecretBox
    let apiKeys: APIKeyCache
    let issuer: OIDCIssuer
    let now: @Sendable () -> Date

    /// The space named in the path.
    func space(_ reference: String) async throws -> Space {
        try await store.space(reference)
    }

    /// Environment id → name for a space, to answer with names.
    func environmentNames(_ spaceID: String) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await store.listEnvironments(spaceID: spaceID).map { ($0.id, $0.name) })
    }

    /// Resolves environment names or ids; unknown ones are all named in one error.
    func resolveEnvironments(_ references: [String], spaceID: String, field: String) async throws -> [Environment] {
        let all = try await store.listEnvironments(spaceID: spaceID)
        var found: [Environment] = []
        var errors = ValidationErrors()
        for reference in references {
            if let environment = all.first(where: { $0.id == reference || $0.slug == Slug.make(reference) }) {
                if !found.contains(environment) { found.append(environment) }
            } else {
                let known = all.map(\.name).joined(separator: ", ")
                errors.add(field, "there is no environment '\(reference)' (known: \(known.isEmpty ? "none yet" : known))")
            }
        }
        try errors.throwIfAny("request")
        return found
    }
}

/// Limits shared by list operations.
enum Paging {
    static func limit(_ value: Int?, default defaultValue: Int, maximum: Int = 1000) throws(BerthError) -> Int {
        guard let value else { return defaultValue }
        guard (1...maximum).contains(value) else {
            throw BerthError.invalid("request", [.init(field: "limit", message: "must be 1 to \(maximum) (got \(value))")])
        }
        return value
    }

    /// A page of a list that the store reads whole (a space's environments, projects…): at most
    /// `limit` items, in the list's order, after the item whose id is `after`, and the cursor of the
    /// next page when more follow.
    static func page<Item>(
        _ items: [Item], limit: Int, after: String?, id: (Item) -> String
    ) throws(BerthError) -> (items: [Item], nextCursor: String?) {
        var start = 0
        if let after {
            guard let index = items.firstIndex(where: { id($0) == after }) else {
                throw BerthError.invalid(
                    "request",
                    [
                        .init(
                            field: "after",
                            message:
                                "'\(after.prefix(100))' is not the cursor of an item of this list (deleted since?); start again without it"
                        )
                    ])
            }
            start = index + 1
        }
        let page = Array(items[start...].prefix(limit))
        return (page, start + page.count < items.count ? page.last.map(id) : nil)
    }
}
