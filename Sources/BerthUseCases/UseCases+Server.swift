import BerthDomain
import BerthOIDC
import BerthStore
import Foundation

/// The server itself: its nodes, its OIDC signing keys, and its audit log.
extension UseCases {
    public func listNodes(by requester: Requester) async throws -> [ClusterNode] {
        try requester.requireServer(.serverConfigure)
        return try await store.listNodes()
    }

    /// Drains a node (it takes no new tasks and hands its running ones over), or undrains it.
    public func setDraining(node name: String, _ draining: Bool, by requester: Requester) async throws -> ClusterNode {
        try requester.requireServer(.serverConfigure)
        return try await audited(
            draining ? "drainNode" : "undrainNode", record: "nodes/\(name)", name: name, by: requester
        ) {
            try await store.setDraining(node: name, draining)
        }
    }

    public func oidcKeys(by requester: Requester) async throws -> [OIDCIssuer.KeyStatus] {
        try requester.requireServer(.serverConfigure)
        return try await issuer.keyStatuses()
    }

    /// A new signing key, signing after `lead` (nil: the policy's lead).
    public func rotateOIDCKey(algorithm: SigningAlgorithm?, lead: Duration?, by requester: Requester) async throws
        -> OIDCIssuer.KeyStatus
    {
        try requester.requireServer(.serverConfigure)
        let key = try await audited(
            "rotateOidcKey", record: "oidc-keys", name: nil,
            details: [("algorithm", algorithm.map { .string($0.rawValue) } ?? .null)], by: requester
        ) {
            try await issuer.rotate(algorithm: algorithm, lead: lead)
        }
        guard let status = try await issuer.keyStatuses().first(where: { $0.key.id == key.id }) else {
            throw BerthError(.internalError, "The new key is missing.")
        }
        return status
    }

    /// Revokes a signing key at once. - Returns: the key and what to do next (its tokens stop
    /// working when AWS next reads the key set).
    public func revokeOIDCKey(_ reference: String, by requester: Requester) async throws
        -> (key: OIDCIssuer.KeyStatus, actions: [String])
    {
        try requester.requireServer(.serverConfigure)
        let (key, actions) = try await audited("revokeOidcKey", record: "oidc-keys/\(reference)", name: reference, by: requester)
        {
            try await issuer.revoke(reference)
        }
        guard let status = try await issuer.keyStatuses().first(where: { $0.key.id == key.id }) else {
            throw BerthError(.internalError, "The revoked key is missing.")
        }
        return (status, actions)
    }

    // MARK: - The audit log

    public func auditEvents(_ filter: BerthStore.AuditFilter, by requester: Requester) async throws -> [AuditEvent] {
        try requester.requireServer(.auditView)
        return try await store.auditEvents(filter)
    }

    /// Checks the audit chain. - Returns: how many events were checked and the first that does
    /// not follow from the one before, if any.
    public func verifyAudit(by requester: Requester) async throws -> BerthStore.AuditVerification {
        try requester.requireServer(.auditView)
        return try await store.verifyAudit(key: secrets.auditChainKey)
    }
}
