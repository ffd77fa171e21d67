import Foundation

/// The query of `GET /spaces/{space}/targets`: filters, page size and cursor.
struct TargetListQuery: Sendable, Hashable {
    var environment: String?
    var role: String?
    var limit: Int?
    var after: String?

    /// Reads a percent-encoded query string (`limit=100&after=target-0042`) exactly as the
    /// generated handler reads it (form style: `+` is a space, then percent-decoding), or gives nil
    /// when the query holds anything whose reading this simple parser does not reproduce exactly:
    /// a parameter it does not know, one given twice, a pair without `=`, an empty pair, a key
    /// that is encoded, an empty value, a value that is not valid percent-encoding, a limit that is
    /// not an integer.
    /// Such a request goes to the generated handler, which stays the reference.
    init?(percentEncoded query: Substring?) {
        guard let query, !query.isEmpty else { return }
        var seen: Set<Substring> = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            let key = pair[..<equals]
            guard seen.insert(key).inserted else { return nil }
            let encoded = pair[pair.index(after: equals)...]
            guard !encoded.isEmpty,
                let value = encoded.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            else { return nil }
            switch key {
            case "environment": environment = value
            case "role": role = value
            case "after": after = value
            case "limit":
                guard let number = Int(value) else { return nil }
                limit = number
            default: return nil
            }
        }
    }

    init(environment: String? = nil, role: String? = nil, limit: Int? = nil, after: String? = nil) {
        self.environment = environment
        self.role = role
        self.limit = limit
        self.after = after
    }
}
