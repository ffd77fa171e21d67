import BerthDomain
import BerthEngine
import BerthOIDC
import BerthStore
import Foundation

/// Every action a person or a pipeline can take on Berth, one function each: it takes domain
/// input and the ``Requester``, checks the permission the action needs for the records it
/// touches, writes the change and its audit event in one transaction, and answers with domain
/// values. The REST API, the web UI and `berth server --dev`'s demo call these same functions, so
/// that a rule is written once.
///
/// Reads are here too when what they show depends on who asks (a project of a limited grant, the
/// tasks of a space).
public struct UseCases: Sendable {
    public let store: BerthStore
    public let engine: Engine
    public let secrets: SecretBox
    public let issuer: OIDCIssuer
    public let now: @Sendable () -> Date
    /// Told after every change of who may do what (users, teams, grants, keys), so that callers
    /// remembered from earlier requests are looked up again.
    let accessChanged: @Sendable () async -> Void

    public init(
        store: BerthStore, engine: Engine, secrets: SecretBox, issuer: OIDCIssuer,
        now: @escaping @Sendable () -> Date = { Date() }, accessChanged: @escaping @Sendable () async -> Void = {}
    ) {
        self.store = store
        self.engine = engine
        self.secrets = secrets
        self.issuer = issuer
        self.now = now
        self.accessChanged = accessChanged
    }

    /// The caller that acts for `username` through no key of theirs: what `berth server --dev`
    /// seeds its demo as. - Throws: when the user does not exist.
    public func requester(actingAs username: String, keyName: String) async throws -> Requester {
        let user = try await store.user(username)
        return Requester(
            caller: Caller(user: user, keyID: "", keyName: keyName, access: try await store.accessPolicy(userID: user.id)),
            address: nil)
    }
}
