import AWSSigV4
import BerthDomain
import BerthStore
import BerthUseCases
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// Authenticates `Authorization: Bearer KEY` or `X-Berth-ApiKey: KEY` against the stored hashes,
/// and makes the key's user the caller, with what their teams' grants allow. A missing, unknown
/// or revoked key, or one of a disabled user, is a 401 whose message never repeats the key.
struct APIKeyAuthenticator: AuthenticatorMiddleware {
    typealias Context = BerthRequestContext
    static let loginPath = "/api/sessions"
    let keys: APIKeyCache
    /// The web UI's sessions: a browser reads the API (the task log's event stream) with its cookie.
    let browserSessions: @Sendable (_ token: String, _ address: String?, _ active: Bool) async throws -> Requester?

    func authenticate(request: Request, context: Context) async throws -> Caller? {
        // Logging in is how a key is had: it needs none.
        if request.method == .post, request.uri.path == Self.loginPath { return nil }
        let presented = request.headers.bearer?.token ?? request.headers[.berthAPIKey]
        // A session cookie only reads: a change needs a key, which no other site's page can send.
        if presented == nil, [.get, .head].contains(request.method),
            let token = request.cookies[WebSessions.sessionCookie]?.value,
            // A page following a task's log is not the person at work: the idle clock keeps running.
            let requester = try await browserSessions(token, context.clientAddress, false)
        {
            return requester.caller
        }
        guard let presented else {
            throw BerthError(
                .unauthorized,
                "This route needs an API key: send 'Authorization: Bearer <key>' or 'X-Berth-ApiKey: <key>'. Create one with `berth apikey create`."
            )
        }
        guard let caller = try await keys.verify(presented.trimmingCharacters(in: .whitespaces)) else {
            throw BerthError(.unauthorized, "The API key is not valid: it is unknown or has been revoked.")
        }
        guard !caller.user.isDisabled else {
            throw BerthError(.unauthorized, "The API key's user '\(caller.user.username)' is disabled.")
        }
        return caller
    }
}

/// Looks keys up by hash, with their users and what those may do, with a short-lived memory of
/// recent answers, so that a busy client does not cost database reads per request; revocation (or
/// a change of rights) through this server takes effect at once, on other nodes within `ttl`.
/// `last_used_at` is written at most once a minute per key.
actor APIKeyCache {
    struct Entry {
        var key: APIKey?
        var caller: Caller?
        var fetchedAt: Date
    }

    let store: BerthStore
    let ttl: TimeInterval
    private var entries: [String: Entry] = [:]
    private var touched: [String: Date] = [:]

    init(store: BerthStore, ttl: TimeInterval = 5) {
        self.store = store
        self.ttl = ttl
    }

    static func hash(_ key: String) -> String {
        APIKeyFactory.hash(key)
    }

    func verify(_ presented: String) async throws -> Caller? {
        let hash = Self.hash(presented)
        let now = Date()
        let key: APIKey?
        let caller: Caller?
        if let entry = entries[hash], now.timeIntervalSince(entry.fetchedAt) < ttl {
            (key, caller) = (entry.key, entry.caller)
        } else {
            key = try await store.apiKey(hash: hash)
            if let key, key.revokedAt == nil, let user = try await store.user(id: key.userID) {
                var limit: AccessPolicy?
                if let roleID = key.limitRoleID {
                    limit = AccessPolicy(
                        grants: [AccessGrant(teamID: "", roleID: roleID, spaceID: key.limitSpaceID)],
                        roles: Role.builtIn + (try await store.listRoles()))
                }
                caller = Caller(
                    user: user, keyID: key.id, keyName: key.name, access: try await store.accessPolicy(userID: user.id),
                    keyLimit: limit)
            } else {
                caller = nil
            }
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = Entry(key: key, caller: caller, fetchedAt: now)
        }
        guard let key, key.revokedAt == nil, let caller else { return nil }
        if let expiresAt = key.expiresAt, expiresAt <= now {
            throw BerthError(
                .unauthorized, "The API key '\(key.name)' expired at \(ISO8601DateFormatter().string(from: expiresAt)).")
        }
        if now.timeIntervalSince(touched[key.id] ?? .distantPast) > 60 {
            touched[key.id] = now
            try? await store.touchAPIKey(id: key.id, at: now)
        }
        return caller
    }

    func forget(hash: String) {
        entries[hash] = nil
    }

    /// Forgets every answer: after a change of users, teams or grants, which may touch any key.
    func forgetAll() {
        entries.removeAll()
    }
}

extension HTTPField.Name {
    static let berthAPIKey = HTTPField.Name("X-Berth-ApiKey")!
}
