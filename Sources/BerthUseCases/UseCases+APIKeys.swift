import BerthDomain
import BerthStore
import Foundation

/// API keys: one's own, carrying one's rights (optionally narrowed to a role and an expiry); and,
/// with ApiKeyManage, those of others.
extension UseCases {
    /// What a new key is: its name, whose it is (nil: the requester's), and how it is narrowed.
    public struct APIKeyInput: Sendable {
        public var name: String
        /// A username or id; nil: the requester.
        public var user: String?
        public var expiresInDays: Int?
        /// A role (name or id) the key allows at most, in `space` (nil: every space).
        public var role: String?
        public var space: String?

        public init(name: String, user: String? = nil, expiresInDays: Int? = nil, role: String? = nil, space: String? = nil) {
            self.name = name
            self.user = user
            self.expiresInDays = expiresInDays
            self.role = role
            self.space = space
        }
    }

    /// The requester's keys; every key with ApiKeyManage.
    public func listAPIKeys(by requester: Requester) async throws -> [APIKey] {
        let managesKeys = requester.may(.apiKeyManage, at: .server)
        return try await store.listAPIKeys().filter { managesKeys || $0.userID == requester.user.id }
    }

    /// A new key. - Returns: the key, shown this once, and its record.
    public func createAPIKey(_ input: APIKeyInput, by requester: Requester) async throws -> (key: String, record: APIKey) {
        var errors = ValidationErrors()
        NameRules.validate(input.name, into: &errors)
        if let days = input.expiresInDays, !(1...3650).contains(days) {
            errors.add("expiresInDays", "must be 1 to 3650 (got \(days))")
        }
        try errors.throwIfAny("API key")
        let caller = requester.caller
        // A narrowed key would otherwise make a key without its narrowing.
        guard caller.keyLimit == nil else {
            throw BerthError(
                .forbidden,
                "The key '\(caller.keyName)' is narrowed to a role: it cannot make keys (make them with a key that is not).")
        }
        var (key, record) = APIKeyFactory.make(name: input.name, at: now())
        record.userID = caller.user.id
        if let reference = input.user, reference != caller.user.id, reference != caller.user.username {
            try requester.requireServer(.apiKeyManage, for: "another user's keys")
            let owner = try await store.user(reference)
            try await requireCovers(requester, owner, "make a key")
            record.userID = owner.id
        }
        if let days = input.expiresInDays { record.expiresAt = now().addingTimeInterval(Double(days) * 86_400) }
        if let reference = input.role?.nonBlank {
            record.limitRoleID = try await role(reference, field: "role", for: "API key").id
            if let space = input.space?.nonBlank { record.limitSpaceID = try await store.space(space).id }
        } else if input.space != nil {
            throw BerthError.invalid("API key", [.init(field: "space", message: "a space narrows a role: name the role too")])
        }
        let stored = try await audited("createApiKey", before: nil, after: record, by: requester) {
            try await store.createAPIKey(record)
        }
        return (key, stored)
    }

    /// Revokes a key of the requester's, or with ApiKeyManage anyone's. - Returns: the revoked key.
    @discardableResult
    public func revokeAPIKey(_ reference: String, by requester: Requester) async throws -> APIKey {
        // By id; or by name, the requester's own key first (names are unique among active keys,
        // but a manager's request names one of theirs before another user's).
        let active = try await store.listAPIKeys().filter { $0.revokedAt == nil }
        guard
            let key = active.first(where: { $0.id == reference })
                ?? active.first(where: { $0.name == reference && $0.userID == requester.user.id })
                ?? active.first(where: { $0.name == reference })
        else { throw BerthError.notFound("active API key", reference) }
        if key.userID != requester.user.id {
            try requester.requireServer(.apiKeyManage, for: "another user's key")
        }
        var revoked = key
        revoked.revokedAt = now()
        let stored = try await audited("revokeApiKey", before: key, after: revoked, by: requester) {
            try await store.revokeAPIKey(key.id, at: revoked.revokedAt ?? now())
        }
        await accessChanged()
        return stored
    }

    /// A role by name or id, built in or custom; unknown: a validation error about `field`.
    func role(_ reference: String, field: String, for what: String) async throws -> Role {
        let roles = Role.builtIn + (try await store.listRoles())
        guard let role = roles.first(where: { $0.id == reference || Slug.make($0.name) == Slug.make(reference) }) else {
            throw BerthError.invalid(
                what,
                [
                    .init(
                        field: field,
                        message: "there is no role '\(reference)' (known: \(roles.map(\.name).joined(separator: ", ")))")
                ])
        }
        return role
    }

    /// - Throws: 403 unless the requester holds everything `user` may do: what a key of theirs,
    ///   or their password, would give.
    func requireCovers(_ requester: Requester, _ user: User, _ what: String) async throws {
        let policy = try await store.accessPolicy(userID: user.id)
        guard requester.caller.covers(policy) else {
            throw BerthError(
                .forbidden,
                "The user '\(requester.user.username)' may not \(what) '\(user.username)', who may do more than they may.")
        }
    }
}
