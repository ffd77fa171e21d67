import Foundation

/// A person, or a service account (no password: API keys only, for CI).
public struct User: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case person
        case serviceAccount = "service-account"
    }

    public var id: String
    public var username: String
    public var displayName: String
    public var email: String?
    public var kind: Kind
    /// A disabled user's keys and sessions stop working at once.
    public var isDisabled: Bool
    public var createdAt: Date

    public init(
        id: String = RecordID.make("user"), username: String, displayName: String, email: String? = nil,
        kind: Kind = .person, isDisabled: Bool = false, createdAt: Date
    ) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.email = email
        self.kind = kind
        self.isDisabled = isDisabled
        self.createdAt = createdAt
    }

    /// The administrator the first start creates; every key made before users existed is theirs.
    public static let administratorID = "user-administrator"
    public static let administratorName = "administrator"
}

/// A group of users that roles are granted to.
public struct Team: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var description: String
    public var createdAt: Date

    public init(id: String = RecordID.make("team"), name: String, description: String = "", createdAt: Date) {
        self.id = id
        self.name = name
        self.description = description
        self.createdAt = createdAt
    }

    /// The team of System administrators the first start creates, with the administrator in it.
    public static let administratorsID = "team-administrators"
    public static let administratorsName = "Administrators"
}

/// Who makes a request: a user (through one of their keys), with what they may do.
public struct Caller: Sendable, Hashable {
    public var user: User
    /// The key the request came with.
    public var keyID: String
    public var keyName: String
    /// What the user's teams allow.
    public var access: AccessPolicy
    /// What the key is narrowed to (a role, in a space), when it is: it then allows at most this
    /// and at most the user's rights.
    public var keyLimit: AccessPolicy?

    public init(user: User, keyID: String, keyName: String, access: AccessPolicy, keyLimit: AccessPolicy? = nil) {
        self.user = user
        self.keyID = keyID
        self.keyName = keyName
        self.access = access
        self.keyLimit = keyLimit
    }

    public func may(_ permission: Permission, at scope: AccessScope) -> Bool {
        !user.isDisabled && access.allows(permission, at: scope) && (keyLimit?.allows(permission, at: scope) ?? true)
    }

    /// Whether this caller holds `permission` at least as widely as `entry` gives it: in every
    /// space when the entry is for every space, and for every project and environment it names
    /// (or for all, when it names none). What a caller may give away — a role to a team, a place
    /// in a team, a key or a password of another user — is what this says.
    public func holds(_ permission: Permission, asWidelyAs entry: AccessPolicy.Entry) -> Bool {
        if entry.spaceID == nil, permission.level != .server {
            // Every space: only a grant for every space without limits is as wide.
            let everywhere = AccessPolicy.Entry(permissions: [permission], spaceID: nil)
            let unlimited = access.entries.contains {
                $0.spaceID == nil && $0.projectIDs.isEmpty && $0.environmentIDs.isEmpty && $0.permissions.contains(permission)
            }
            return !user.isDisabled && unlimited && (keyLimit?.entries.contains { $0.covers(everywhere) } ?? true)
        }
        let projects: [String?] = entry.projectIDs.isEmpty ? [nil] : entry.projectIDs.sorted()
        let environments: [String?] = entry.environmentIDs.isEmpty ? [nil] : entry.environmentIDs.sorted()
        for project in projects {
            for environment in environments
            where !may(permission, at: AccessScope(spaceID: entry.spaceID, projectID: project, environmentID: environment)) {
                return false
            }
        }
        return true
    }

    /// Whether this caller holds everything `policy` gives (see ``holds(_:asWidelyAs:)``).
    public func covers(_ policy: AccessPolicy) -> Bool {
        policy.entries.allSatisfy { entry in entry.permissions.allSatisfy { holds($0, asWidelyAs: entry) } }
    }

    /// The permissions held somewhere in `spaceID`, within the key's limit.
    public func permissions(inSpace spaceID: String?) -> Set<Permission> {
        let held = access.permissions(inSpace: spaceID)
        return keyLimit.map { held.intersection($0.permissions(inSpace: spaceID)) } ?? held
    }
}
