import BerthDomain
import Foundation
import SQLKit

/// Sessions of the web UI, by the hash of their cookie's token.
extension BerthStore {
    /// Stores a new session, and forgets the sessions that have ended (theirs and everyone's).
    public func createBrowserSession(_ session: BrowserSession) async throws {
        try await database.transaction { db in
            let idle = session.createdAt.addingTimeInterval(-BrowserSession.idleTimeout).unixMilliseconds
            try await db.raw(
                """
                DELETE FROM browser_sessions WHERE expires_at <= \(bind: session.createdAt.unixMilliseconds) \
                OR last_seen_at <= \(bind: idle)
                """
            ).run()
            try await db.raw(
                """
                INSERT INTO browser_sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at) VALUES \
                (\(bind: session.id), \(bind: session.userID), \(bind: session.tokenHash), \
                \(bind: session.createdAt.unixMilliseconds), \(bind: session.lastSeenAt.unixMilliseconds), \
                \(bind: session.expiresAt.unixMilliseconds))
                """
            ).run()
        }
    }

    public func browserSession(tokenHash: String) async throws -> BrowserSession? {
        try await database.withConnection { db in
            guard
                let row = try await db.raw("SELECT * FROM browser_sessions WHERE token_hash = \(bind: tokenHash)").first()
            else { return nil }
            return BrowserSession(
                id: try row.string("id"), userID: try row.string("user_id"), tokenHash: try row.string("token_hash"),
                createdAt: try row.date("created_at"), lastSeenAt: try row.date("last_seen_at"),
                expiresAt: try row.date("expires_at"))
        }
    }

    /// Records a request of the session (the idle clock starts again).
    public func touchBrowserSession(id: String, at time: Date) async throws {
        try await database.transaction { db in
            try await db.raw(
                "UPDATE browser_sessions SET last_seen_at = \(bind: time.unixMilliseconds) WHERE id = \(bind: id)"
            ).run()
        }
    }

    /// Ends a session (logout). - Returns: whether there was one.
    @discardableResult
    public func deleteBrowserSession(tokenHash: String) async throws -> Bool {
        try await database.transaction { db in
            !(try await db.raw("DELETE FROM browser_sessions WHERE token_hash = \(bind: tokenHash) RETURNING id").all()).isEmpty
        }
    }

    /// Stores a one-time login link of `userID`, by its token's hash.
    public func createLoginLink(tokenHash: String, userID: String, at time: Date, expiresAt: Date) async throws {
        try await database.transaction { db in
            try await db.raw("DELETE FROM login_links WHERE expires_at <= \(bind: time.unixMilliseconds)").run()
            try await db.raw(
                """
                INSERT INTO login_links (token_hash, user_id, created_at, expires_at) VALUES \
                (\(bind: tokenHash), \(bind: userID), \(bind: time.unixMilliseconds), \(bind: expiresAt.unixMilliseconds))
                """
            ).run()
        }
    }

    /// Uses up a login link and starts `session` for its user, in one transaction: of two
    /// redemptions, on any nodes, exactly one succeeds. - Returns: the session. - Throws: 401 when
    /// the link is unknown, used or expired (and nothing is written).
    public func redeemLoginLink(
        tokenHash: String, session: @escaping @Sendable (String) -> BrowserSession, at time: Date
    ) async throws -> BrowserSession {
        try await database.transaction { db in
            guard
                let row = try await db.raw(
                    """
                    DELETE FROM login_links WHERE token_hash = \(bind: tokenHash) \
                    AND expires_at > \(bind: time.unixMilliseconds) RETURNING user_id
                    """
                ).first()
            else {
                throw BerthError(
                    .unauthorized, "This login link is not valid: it was used already, has expired, or never existed.")
            }
            let userID = try row.string("user_id")
            guard let user = try await db.raw("SELECT username, disabled FROM users WHERE id = \(bind: userID)").first(),
                try user.decode(column: "disabled", as: Int64.self) == 0
            else {
                // Refused with the link left as it was: enabling the user makes it work again.
                throw BerthError(.unauthorized, "This login link's user is disabled.")
            }
            AuditTrail.pending?.note("username", try user.string("username"))
            let started = session(userID)
            try await db.raw(
                """
                INSERT INTO browser_sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at) VALUES \
                (\(bind: started.id), \(bind: started.userID), \(bind: started.tokenHash), \
                \(bind: started.createdAt.unixMilliseconds), \(bind: started.lastSeenAt.unixMilliseconds), \
                \(bind: started.expiresAt.unixMilliseconds))
                """
            ).run()
            return started
        }
    }

    /// The username a login link logs in as, while it works (for its page to say so).
    public func loginLinkUsername(tokenHash: String, at time: Date) async throws -> String? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT users.username FROM login_links JOIN users ON users.id = login_links.user_id \
                WHERE login_links.token_hash = \(bind: tokenHash) AND login_links.expires_at > \(bind: time.unixMilliseconds)
                """
            ).first()?.string("username")
        }
    }
}
