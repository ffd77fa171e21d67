import BerthDomain
import BerthStore

/// Space references as they appear in paths (an id or a name) → space ids, remembered: spaces are
/// never renamed or deleted, so the target listing's middlewares resolve a space without a query
/// after its first request.
actor SpaceIDs {
    static let capacity = 512

    let store: BerthStore
    private var ids: [String: String] = [:]

    init(store: BerthStore) { self.store = store }

    /// The id of the space `reference` names; nil when there is no such space (not remembered,
    /// since it may be created later).
    func id(of reference: String) async throws -> String? {
        if let id = ids[reference] { return id }
        guard let space = try await store.findSpace(reference) else { return nil }
        if ids.count >= Self.capacity { ids.removeAll(keepingCapacity: true) }
        ids[reference] = space.id
        return space.id
    }
}
