import Foundation

/// An API key as stored: its SHA-256 hash and a short prefix to recognise it; never the key.
public struct APIKey: Sendable, Hashable {
    public static let keyPrefix = "berth_"

    public var id: String
    public var name: String
    /// The first 12 characters of the key, e.g. `berth_AbC123`.
    public var prefix: String
    /// Hex SHA-256 of the whole key.
    public var hash: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// The user whose rights the key carries; keys made before users existed are the administrator's.
    public var userID: String
    /// After this the key answers 401.
    public var expiresAt: Date?
    /// The key carries at most this role (in `limitSpaceID`, or every space when nil), and never
    /// more than its user's rights.
    public var limitRoleID: String?
    public var limitSpaceID: String?

    public init(
        id: String = RecordID.make("key"), name: String, prefix: String, hash: String, createdAt: Date,
        lastUsedAt: Date? = nil, revokedAt: Date? = nil, userID: String = User.administratorID
    ) {
        self.userID = userID
        self.id = id
        self.name = name
        self.prefix = prefix
        self.hash = hash
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}
