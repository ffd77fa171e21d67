import BerthAPI
import BerthDomain
import BerthEngine
import BerthOIDC
import BerthStore
import BerthUseCases
import Foundation

/// The REST API of `openapi.yaml`: each operation turns its input into domain values, calls the
/// use case of its action (``UseCases``: where permissions are checked and changes audited), and
/// answers with the generated types. Errors are thrown as `BerthError` and rendered by
/// `ErrorMiddleware`.
struct APIService: APIProtocol {
    let useCases: UseCases
    let apiKeys: APIKeyCache

    var store: BerthStore { useCases.store }
    var engine: Engine { useCases.engine }
    var issuer: OIDCIssuer { useCases.issuer }

    /// The request's caller and address, as use cases take them. - Throws: 401 without a caller.
    func requester() throws -> Requester {
        Requester(caller: try Access.caller(), address: RequestCaller.address)
    }

    /// Environment id → name for a space, to answer with names (of records already read).
    func environmentNames(spaceID: String) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await store.listEnvironments(spaceID: spaceID).map { ($0.id, $0.name) })
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
