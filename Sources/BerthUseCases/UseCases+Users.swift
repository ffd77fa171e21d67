import BerthDomain
import BerthStore
import Foundation
import HummingbirdBcrypt

/// Users and service accounts, their passwords, and logging in.
extension UseCases {
    public func listUsers(by requester: Requester) async throws -> [User] {
        try requester.requireServer(.userManage)
        return try await store.listUsers()
    }

    public func user(_ reference: String, by requester: Requester) async throws -> User {
        try requester.requireServer(.userManage)
        return try await store.user(reference)
    }

    public func createUser(
        username: String, displayName: String?, email: String?, serviceAccount: Bool, by requester: Requester
    ) async throws -> User {
        try requester.requireServer(.userManage)
        var errors = ValidationErrors()
        NameRules.validate(username, field: "username", into: &errors)
        if let email, !email.isEmpty, !email.contains("@") {
            errors.add("email", "'\(email)' is not an email address")
        }
        try errors.throwIfAny("user")
        let user = User(
            username: username, displayName: displayName?.nonBlank ?? username, email: email?.nonBlank,
            kind: serviceAccount ? .serviceAccount : .person, createdAt: now())
        return try await audited("createUser", before: nil, after: user, by: requester) {
            try await store.createUser(user)
        }
    }

    /// Changes a user's display name or email, or disables (enables) them: a disabled user's keys
    /// stop working at once. The last active System administrator cannot be disabled.
    public func updateUser(
        _ reference: String, displayName: String?, email: String?, disabled: Bool?, by requester: Requester
    ) async throws -> User {
        try requester.requireServer(.userManage)
        let user = try await store.user(reference)
        var changed = user
        if let displayName { changed.displayName = displayName }
        if let email { changed.email = email.nonBlank }
        if let disabled { changed.isDisabled = disabled }
        if changed.isDisabled != user.isDisabled {
            try await requireCovers(requester, user, disabled == true ? "disable" : "enable")
        }
        try await audited("updateUser", before: user, after: changed, by: requester) {
            try await store.updateUser(changed)
        }
        await accessChanged()
        return changed
    }

    /// The minimum length of a password.
    public static let minimumPasswordLength = 12
    /// bcrypt's cost: about a quarter of a second per hash on a server core.
    static let bcryptCost: UInt8 = 12

    /// Sets a password: one's own (giving the current one, when there is one, so that a stolen
    /// session is not enough), or with UserManage another's who may do no more than the requester.
    public func setPassword(
        of reference: String, to password: String, currentPassword: String?, by requester: Requester
    ) async throws {
        let caller = requester.caller
        let user = try await store.user(reference)
        guard caller.keyLimit == nil else {
            throw BerthError(.forbidden, "The key '\(caller.keyName)' is narrowed to a role: it cannot set passwords.")
        }
        if user.id != caller.user.id {
            try requester.requireServer(.userManage, for: "another user's password")
            try await requireCovers(requester, user, "set the password of")
        } else if let current = try await store.passwordHash(username: user.username)?.hash {
            let given = currentPassword ?? ""
            guard await Self.offThePool({ Bcrypt.verify(given, hash: current) }) else {
                throw BerthError.invalid("password", [.init(field: "currentPassword", message: "is not the current password")])
            }
        }
        guard user.kind == .person else {
            throw BerthError(.validationFailed, "'\(user.username)' is a service account: it has API keys only, no password.")
        }
        guard password.count >= Self.minimumPasswordLength else {
            throw BerthError.invalid(
                "password", [.init(field: "password", message: "must be at least \(Self.minimumPasswordLength) characters")])
        }
        let hash = await Self.offThePool { Bcrypt.hash(password, cost: Self.bcryptCost) }
        try await audited(
            "setUserPassword", record: user.auditReference, name: user.username,
            details: [("changes", .object([("password", .string("(changed)"))]))], by: requester
        ) {
            try await store.setPasswordHash(userID: user.id, hash)
        }
    }

    // MARK: - Logging in

    /// How long a session (the key a login gives) lasts.
    public static let sessionLifetime: TimeInterval = 12 * 3600
    static let failureWindow: TimeInterval = 15 * 60
    static let failuresPerUser = 5
    static let failuresPerAddress = 20

    /// Logs in with a username and password. Failed logins are counted in the database (every
    /// node sees the same counts) per username and per address; past the limit every login of
    /// that user or from that address is refused for a while, the right password included, so
    /// that guessing gets nowhere. Every attempt is audited, with its outcome and never the
    /// password. - Returns: a session: a key of the user's that expires in 12 hours.
    public func logIn(username: String, password: String, address: String?) async throws -> (key: String, record: APIKey) {
        try await logIn(username: username, password: password, address: address) { user, now in
            var (key, record) = APIKeyFactory.make(name: "session-\(RecordID.make("s").suffix(8))", at: now)
            record.userID = user.id
            record.expiresAt = now.addingTimeInterval(Self.sessionLifetime)
            return (key, try await store.createAPIKey(record))
        }
    }

    /// Logs in to the web UI, as ``logIn(username:password:address:)`` does. - Returns: the token of
    /// the session cookie (stored only as its hash) and the session.
    public func logInToBrowser(username: String, password: String, address: String?) async throws
        -> (token: String, session: BrowserSession)
    {
        try await logIn(username: username, password: password, address: address) { user, now in
            let token = BrowserSession.tokenPrefix + Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max) })
            let session = BrowserSession(userID: user.id, tokenHash: APIKeyFactory.hash(token), createdAt: now)
            try await store.createBrowserSession(session)
            return (token, session)
        }
    }

    /// The requester of a web UI session's token, with the idle clock started again (unless
    /// `active` is false: a page refreshing itself is not the person at work); nil when the
    /// token is unknown, the session has ended, or its user is disabled.
    public func browserRequester(token: String, address: String?, active: Bool = true) async throws -> Requester? {
        let now = now()
        guard let session = try await store.browserSession(tokenHash: APIKeyFactory.hash(token)), session.isLive(at: now),
            let user = try await store.user(id: session.userID), !user.isDisabled
        else { return nil }
        if active, now.timeIntervalSince(session.lastSeenAt) > 30 {
            try await store.touchBrowserSession(id: session.id, at: now)
        }
        let caller = Caller(
            user: user, keyID: session.id, keyName: "browser session", access: try await store.accessPolicy(userID: user.id))
        return Requester(caller: caller, address: address)
    }

    /// How long a one-time login link works.
    public static let loginLinkLifetime: TimeInterval = 24 * 3600

    /// A one-time login link for `reference`: whoever follows it within 24 hours is logged in to
    /// the web UI as that user (once), and can set their password there. Made by a user manager who
    /// may do all the user may (it is as good as their password), or by the user for themselves.
    /// - Returns: the link's token (shown once; stored as its hash) and when it stops working.
    public func createLoginLink(for reference: String, by requester: Requester) async throws
        -> (token: String, user: User, expiresAt: Date)
    {
        let user = try await store.user(reference)
        guard requester.caller.keyLimit == nil else {
            throw BerthError(
                .forbidden,
                "The key '\(requester.caller.keyName)' is narrowed to a role: it cannot make login links (a session would shed its narrowing)."
            )
        }
        if user.id != requester.user.id {
            try requester.requireServer(.userManage, for: "another user's login link")
            try await requireCovers(requester, user, "make a login link for")
        }
        guard !user.isDisabled else {
            throw BerthError(.conflict, "The user '\(user.username)' is disabled: enable them before sending a login link.")
        }
        guard user.kind == .person else {
            throw BerthError(.validationFailed, "'\(user.username)' is a service account: it has API keys only, no login.")
        }
        let now = now()
        let token = BrowserSession.linkPrefix + Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max) })
        let expiresAt = now.addingTimeInterval(Self.loginLinkLifetime)
        try await audited(
            "createLoginLink", record: user.auditReference, name: user.username,
            details: [("expiresAt", .string(expiresAt.formatted(.iso8601)))], by: requester
        ) {
            try await store.createLoginLink(tokenHash: APIKeyFactory.hash(token), userID: user.id, at: now, expiresAt: expiresAt)
        }
        return (token, user, expiresAt)
    }

    /// Follows a one-time login link: it is used up, and a web UI session of its user starts.
    /// - Returns: the session cookie's token and the session. - Throws: 401 for a link that is
    ///   unknown, used or expired (without saying which), or of a user disabled since.
    public func logInWithLink(_ token: String, address: String?) async throws -> (token: String, session: BrowserSession) {
        let now = now()
        let sessionToken = BrowserSession.tokenPrefix + Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max) })
        let session: BrowserSession
        do {
            session = try await audited(
                "createSession", record: "sessions", name: nil, details: [("outcome", .string("succeeded: login link"))],
                by: nil, address: address
            ) {
                try await store.redeemLoginLink(
                    tokenHash: APIKeyFactory.hash(token),
                    session: { BrowserSession(userID: $0, tokenHash: APIKeyFactory.hash(sessionToken), createdAt: now) }, at: now)
            }
        } catch let error as BerthError where error.code == .unauthorized {
            try await audited(
                "createSession", record: "sessions", name: nil, details: [("outcome", .string("failed: \(error.message)"))],
                by: nil, address: address
            ) { try await store.writePendingAuditEvent() }
            throw error
        }
        return (sessionToken, session)
    }

    /// Who a login link logs in as, while it works; nil for a link that does not.
    public func loginLinkUsername(_ token: String) async throws -> String? {
        try await store.loginLinkUsername(tokenHash: APIKeyFactory.hash(token), at: now())
    }

    /// Ends a web UI session.
    public func logOut(token: String, by requester: Requester) async throws {
        try await audited("deleteSession", record: "users/\(requester.user.id)", name: requester.user.username, by: requester) {
            try await store.deleteBrowserSession(tokenHash: APIKeyFactory.hash(token))
        }
    }

    /// The login both kinds of session share: rate limits, the password check, the audit event;
    /// `start` makes the session once the password is right.
    func logIn<Session: Sendable>(
        username: String, password: String, address: String?,
        start: (User, Date) async throws -> Session
    ) async throws -> Session {
        let now = now()
        var subjects = [(subject: "user:\(username)", limit: Self.failuresPerUser)]
        if let address { subjects.append((subject: "address:\(address)", limit: Self.failuresPerAddress)) }
        return try await audited(
            "createSession", record: "sessions", name: nil, details: [("username", .string(username))], by: nil,
            address: address
        ) {
            // The attempt's event is written once its outcome is known, not with this first write.
            let begun = try await AuditTrail.$pending.withValue(nil) {
                try await store.beginLoginAttempt(subjects: subjects, at: now, window: Self.failureWindow)
            }
            let attempt: String
            switch begun {
            case .success(let started): attempt = started
            case .failure(let refusal):
                AuditTrail.pending?.note("outcome", "refused: too many failures")
                try await store.writePendingAuditEvent()
                throw BerthError(
                    .tooManyRequests,
                    "Too many failed logins \(refusal.subject.hasPrefix("user:") ? "for this user" : "from this address"); try again after \(refusal.until.formatted(.iso8601))."
                )
            }
            let found = try await store.passwordHash(username: username)
            // The same work whether or not the user exists, so that timing does not tell.
            let verified = await Self.offThePool { Bcrypt.verify(password, hash: found?.hash ?? Self.decoyHash) }
            guard let found, found.hash != nil, verified, !found.user.isDisabled else {
                // The attempt stays counted as failed (it was written as one); its event says so.
                AuditTrail.pending?.note("outcome", "failed")
                try await store.writePendingAuditEvent()
                throw BerthError(.unauthorized, "The username or password is wrong (or the user is disabled).")
            }
            AuditTrail.pending?.note("outcome", "succeeded")
            try await AuditTrail.$pending.withValue(nil) { try await store.forgetLoginAttempt(attempt) }
            return try await start(found.user, now)
        }
    }

    /// A bcrypt hash of nothing anyone knows, verified against when the user does not exist.
    static let decoyHash = Bcrypt.hash(UUID().uuidString, cost: bcryptCost)

    /// Runs CPU-heavy work (bcrypt) on a thread of its own, not on Swift's cooperative pool.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
