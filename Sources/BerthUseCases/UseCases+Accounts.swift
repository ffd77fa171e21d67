import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// AWS accounts: access keys, or OIDC roles that Berth's own tokens assume.
extension UseCases {
    /// What an update of an account changes: nil leaves a field as it is.
    public struct AccountChange: Sendable {
        public var name: String?
        public var description: String?
        public var region: String?
        public var accessKeyID: String?
        /// A new secret access key, in clear only until it is sealed.
        public var secretKey: String?
        public var roleARN: String?
        public var sessionDuration: Int?
        public var audience: String?
        public var subjectKeys: [String]?
        public var customClaims: [String: String]?
        /// Environment names or ids: the account then serves only these (empty: every one).
        public var environments: [String]?

        public init(
            name: String? = nil, description: String? = nil, region: String? = nil, accessKeyID: String? = nil,
            secretKey: String? = nil, roleARN: String? = nil, sessionDuration: Int? = nil, audience: String? = nil,
            subjectKeys: [String]? = nil, customClaims: [String: String]? = nil, environments: [String]? = nil
        ) {
            self.name = name
            self.description = description
            self.region = region
            self.accessKeyID = accessKeyID
            self.secretKey = secretKey
            self.roleARN = roleARN
            self.sessionDuration = sessionDuration
            self.audience = audience
            self.subjectKeys = subjectKeys
            self.customClaims = customClaims
            self.environments = environments
        }
    }

    public func listAccounts(space reference: String, by requester: Requester) async throws -> [Account] {
        let space = try await space(reference, needing: .accountView, by: requester)
        return try await store.listAccounts(spaceID: space.id)
    }

    public func account(_ reference: String, space spaceReference: String, by requester: Requester) async throws -> Account {
        let space = try await space(spaceReference, needing: .accountView, by: requester)
        return try await store.account(reference, spaceID: space.id)
    }

    /// A new account from `draft`, serving `environments` (names or ids; empty: every one). Its
    /// secret is sealed before it reaches the store.
    public func createAccount(
        _ draft: AccountDraft, environments: [String], space reference: String, by requester: Requester
    ) async throws -> Account {
        let space = try await space(reference, needing: .accountEdit, by: requester)
        try draft.validate()
        let environments = try await resolveEnvironments(environments, spaceID: space.id, field: "environments")
        var account = Account(
            spaceID: space.id, kind: draft.kind, name: draft.name, description: draft.description,
            environmentIDs: environments.map(\.id), region: draft.region, accessKeyID: draft.accessKeyID, roleARN: draft.roleARN,
            sessionDuration: draft.kind == .awsOIDC ? (draft.sessionDuration ?? Account.defaultOIDCSessionDuration) : nil,
            audience: draft.audience, subjectKeys: draft.subjectKeys, customClaims: draft.customClaims, createdAt: now())
        if let secret = draft.secretKey {
            account.secretKey = try secrets.seal(secret, for: .accountSecretKey(accountID: account.id))
        }
        return try await audited("createAccount", before: nil, after: account, by: requester) {
            try await store.createAccount(account)
        }
    }

    public func updateAccount(
        _ reference: String, _ change: AccountChange, space spaceReference: String, by requester: Requester
    ) async throws -> Account {
        let space = try await space(spaceReference, needing: .accountEdit, by: requester)
        let account = try await store.account(reference, spaceID: space.id)
        let draft = AccountDraft(
            kind: account.kind, name: change.name ?? account.name, description: change.description ?? account.description,
            region: change.region ?? account.region, accessKeyID: change.accessKeyID ?? account.accessKeyID,
            secretKey: change.secretKey, roleARN: change.roleARN ?? account.roleARN,
            sessionDuration: change.sessionDuration ?? account.sessionDuration, audience: change.audience ?? account.audience,
            subjectKeys: change.subjectKeys ?? account.subjectKeys, customClaims: change.customClaims ?? account.customClaims)
        try draft.validate(secretIsStored: account.secretKey != nil)
        var changed = account
        if let references = change.environments {
            changed.environmentIDs = try await resolveEnvironments(references, spaceID: space.id, field: "environments").map(\.id)
        }
        changed.name = draft.name
        changed.description = draft.description
        changed.region = draft.region
        changed.accessKeyID = draft.accessKeyID
        changed.roleARN = draft.roleARN
        changed.sessionDuration = draft.sessionDuration
        changed.audience = draft.audience
        changed.subjectKeys = draft.subjectKeys
        changed.customClaims = draft.customClaims
        changed.updatedAt = now()
        if let secret = draft.secretKey {
            changed.secretKey = try secrets.seal(secret, for: .accountSecretKey(accountID: account.id))
        }
        return try await audited("updateAccount", before: account, after: changed, by: requester) {
            try await store.updateAccount(changed)
        }
    }

    public func deleteAccount(_ reference: String, space spaceReference: String, by requester: Requester) async throws {
        let space = try await space(spaceReference, needing: .accountEdit, by: requester)
        let account = try await store.account(reference, spaceID: space.id)
        try await audited("deleteAccount", before: account, after: nil, by: requester) {
            try await store.deleteAccount(id: account.id)
        }
    }

    /// Queues "Save and test": the account's credentials are tried against STS.
    public func testAccount(_ reference: String, space spaceReference: String, by requester: Requester) async throws
        -> ServerTask
    {
        let space = try await space(spaceReference, needing: .accountEdit, by: requester)
        let account = try await store.account(reference, spaceID: space.id)
        return try await audited("testAccount", record: account.auditReference, name: account.name, by: requester) {
            try await engine.testAccount(account, queuedBy: requester.user.username)
        }
    }
}
