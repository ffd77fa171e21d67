import BerthAPI
import BerthDomain
import BerthStore
import Foundation
import HummingbirdBcrypt

/// Passwords and logging in: a session is an API key of the user that expires in 12 hours.
/// Failed logins are counted in the database (every node sees the same counts), per username and
/// per address; past the limit every login of that user or from that address is refused for a
/// while, the right password included, so that guessing gets nowhere.
extension APIService {
    static let sessionLifetime: TimeInterval = 12 * 3600
    static let failureWindow: TimeInterval = 15 * 60
    static let failuresPerUser = 5
    static let failuresPerAddress = 20
    /// bcrypt's cost: about a quarter of a second per hash on a server core.
    static let bcryptCost: UInt8 = 12

    func setUserPassword(_ input: Operations.SetUserPassword.Input) async throws -> Operations.SetUserPassword.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the password as JSON.") }
        let caller = try Access.caller()
        let user = try await store.user(input.path.user)
        guard caller.keyLimit == nil else {
            throw BerthError(.forbidden, "The key '\(caller.keyName)' is narrowed to a role: it cannot set passwords.")
        }
        if user.id != caller.user.id {
            try Access.require(.userManage, at: .server, caller: caller, for: "another user's password")
            try await requireCovers(caller, user, "set the password of")
        } else if let current = try await store.passwordHash(username: user.username)?.hash {
            // One's own: the current password too, so that a key (a stolen session) is not enough.
            let given = body.currentPassword ?? ""
            guard await Self.offThePool({ Bcrypt.verify(given, hash: current) }) else {
                throw BerthError.invalid(
                    "password", [.init(field: "currentPassword", message: "is not the current password")])
            }
        }
        guard user.kind == .person else {
            throw BerthError(
                .validationFailed, "'\(user.username)' is a service account: it has API keys only, no password.")
        }
        guard body.password.count >= 12 else {
            throw BerthError.invalid("password", [.init(field: "password", message: "must be at least 12 characters")])
        }
        let hash = await Self.offThePool { Bcrypt.hash(body.password, cost: Self.bcryptCost) }
        try await store.setPasswordHash(userID: user.id, hash)
        return .noContent(.init())
    }

    func createSession(_ input: Operations.CreateSession.Input) async throws -> Operations.CreateSession.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the username and password as JSON.") }
        let now = now()
        var subjects = [(subject: "user:\(body.username)", limit: Self.failuresPerUser)]
        if let address = RequestCaller.address {
            subjects.append((subject: "address:\(address)", limit: Self.failuresPerAddress))
        }
        let attempt: String
        // The attempt's event is written once its outcome is known, not with this first write.
        let begun = try await AuditTrail.$pending.withValue(nil) {
            try await store.beginLoginAttempt(subjects: subjects, at: now, window: Self.failureWindow)
        }
        switch begun {
        case .success(let started): attempt = started
        case .failure(let refusal):
            throw BerthError(
                .tooManyRequests,
                "Too many failed logins \(refusal.subject.hasPrefix("user:") ? "for this user" : "from this address"); try again after \(ISO8601DateFormatter().string(from: refusal.until))."
            )
        }
        let found = try await store.passwordHash(username: body.username)
        let password = body.password
        // The same work whether or not the user exists, so that timing does not tell.
        let verified = await Self.offThePool {
            Bcrypt.verify(password, hash: found?.hash ?? Self.decoyHash)
        }
        guard let found, found.hash != nil, verified, !found.user.isDisabled else {
            // The attempt stays counted as failed (it was written as one); its event says so.
            AuditTrail.pending?.note("outcome", "failed")
            try await store.writePendingAuditEvent()
            throw BerthError(.unauthorized, "The username or password is wrong (or the user is disabled).")
        }
        AuditTrail.pending?.note("outcome", "succeeded")
        try await store.forgetLoginAttempt(attempt)
        var (key, record) = APIKeyFactory.make(name: "session-\(RecordID.make("s").suffix(8))", at: now)
        record.userID = found.user.id
        record.expiresAt = now.addingTimeInterval(Self.sessionLifetime)
        let stored = try await store.createAPIKey(record)
        return .created(.init(body: .json(.init(apiKey: .init(stored), key: key))))
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
