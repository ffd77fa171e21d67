import Foundation

/// A role given to a team: in one space (nil: every space), optionally limited to projects and to
/// environments (empty: all of them).
public struct AccessGrant: Sendable, Hashable, Codable {
    public var id: String
    public var teamID: String
    public var roleID: String
    public var spaceID: String?
    public var projectIDs: Set<String>
    public var environmentIDs: Set<String>

    public init(
        id: String = RecordID.make("grant"), teamID: String, roleID: String, spaceID: String?, projectIDs: Set<String> = [],
        environmentIDs: Set<String> = []
    ) {
        self.id = id
        self.teamID = teamID
        self.roleID = roleID
        self.spaceID = spaceID
        self.projectIDs = projectIDs
        self.environmentIDs = environmentIDs
    }

    public var isLimited: Bool { !projectIDs.isEmpty || !environmentIDs.isEmpty }
}

/// Where an action happens: the space, and the project and environment when it has them.
public struct AccessScope: Sendable, Hashable {
    public var spaceID: String?
    public var projectID: String?
    public var environmentID: String?

    public init(spaceID: String? = nil, projectID: String? = nil, environmentID: String? = nil) {
        self.spaceID = spaceID
        self.projectID = projectID
        self.environmentID = environmentID
    }

    /// The server as a whole.
    public static let server = AccessScope()
}

/// What a caller may do: the permissions of the roles granted to their teams, each where its
/// grant says. A pure value, resolved once per caller and asked for every action.
public struct AccessPolicy: Sendable, Hashable {
    /// A grant with its role's permissions.
    public struct Entry: Sendable, Hashable {
        public var permissions: Set<Permission>
        public var spaceID: String?
        public var projectIDs: Set<String>
        public var environmentIDs: Set<String>

        public init(
            permissions: Set<Permission>, spaceID: String?, projectIDs: Set<String> = [], environmentIDs: Set<String> = []
        ) {
            self.permissions = permissions
            self.spaceID = spaceID
            self.projectIDs = projectIDs
            self.environmentIDs = environmentIDs
        }

        /// Whether this entry gives `permission` at `scope`.
        func allows(_ permission: Permission, at scope: AccessScope) -> Bool {
            guard permissions.contains(permission) else { return false }
            switch permission.level {
            case .server:
                return spaceID == nil && projectIDs.isEmpty && environmentIDs.isEmpty
            case .space:
                return spaceID == nil || spaceID == scope.spaceID
            case .project:
                return (spaceID == nil || spaceID == scope.spaceID) && Self.within(projectIDs, scope.projectID)
            case .environment:
                return (spaceID == nil || spaceID == scope.spaceID) && Self.within(projectIDs, scope.projectID)
                    && Self.within(environmentIDs, scope.environmentID)
            }
        }

        /// An empty limit allows everything; a limit allows only what it names (not "any").
        static func within(_ limit: Set<String>, _ id: String?) -> Bool {
            limit.isEmpty || id.map(limit.contains) == true
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// The policy of a caller whose teams hold `grants`; grants of unknown roles give nothing.
    public init(grants: [AccessGrant], roles: [Role]) {
        let byID = Dictionary(roles.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.entries = grants.compactMap { grant in
            byID[grant.roleID].map {
                Entry(
                    permissions: $0.permissions, spaceID: grant.spaceID, projectIDs: grant.projectIDs,
                    environmentIDs: grant.environmentIDs)
            }
        }
    }

    /// Nothing at all.
    public static let none = AccessPolicy(entries: [])

    public func allows(_ permission: Permission, at scope: AccessScope) -> Bool {
        entries.contains { $0.allows(permission, at: scope) }
    }

    /// The permissions held somewhere in `spaceID` (for `whoami`): held at the space itself, or
    /// for some of its projects and environments.
    public func permissions(inSpace spaceID: String?) -> Set<Permission> {
        var held: Set<Permission> = []
        for entry in entries where entry.spaceID == nil || entry.spaceID == spaceID {
            held.formUnion(entry.permissions.filter { $0.level != .server || (entry.spaceID == nil && !entry.isLimited) })
        }
        return held
    }
}

extension AccessPolicy.Entry {
    var isLimited: Bool { !projectIDs.isEmpty || !environmentIDs.isEmpty }

    /// Whether this entry is at least as wide as `other` for `other`'s permissions.
    func covers(_ other: AccessPolicy.Entry) -> Bool {
        other.permissions.isSubset(of: permissions) && spaceID == nil && projectIDs.isEmpty && environmentIDs.isEmpty
    }
}
