import Foundation

/// A person logged in to the web UI: a random token in an `HttpOnly` cookie, stored only as its
/// hash (so any node serves it, and the database alone does not log anyone in). It ends after
/// ``idleTimeout`` without a request, after ``lifetime`` in any case, or at logout.
public struct BrowserSession: Sendable, Hashable {
    public var id: String
    public var userID: String
    public var tokenHash: String
    public var createdAt: Date
    public var lastSeenAt: Date
    /// The absolute end.
    public var expiresAt: Date

    public static let idleTimeout: TimeInterval = 2 * 3600
    /// What a session token starts with (its cookie holds nothing else).
    public static let tokenPrefix = "berths_"
    /// What a one-time login link's token starts with.
    public static let linkPrefix = "berthl_"
    public static let lifetime: TimeInterval = 12 * 3600

    public init(
        id: String = RecordID.make("ses"), userID: String, tokenHash: String, createdAt: Date, lastSeenAt: Date? = nil,
        expiresAt: Date? = nil
    ) {
        self.id = id
        self.userID = userID
        self.tokenHash = tokenHash
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt ?? createdAt
        self.expiresAt = expiresAt ?? createdAt.addingTimeInterval(Self.lifetime)
    }

    /// Whether the session still logs its user in at `time`.
    public func isLive(at time: Date) -> Bool {
        time < expiresAt && time.timeIntervalSince(lastSeenAt) < Self.idleTimeout
    }
}
