import Foundation

/// A named value of a project, possibly one of several with the same name in different scopes.
public struct ProjectVariable: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Plain text, shown by the API.
        case text
        /// Sealed at rest, never returned, masked in every log.
        case sensitive
        /// The id of an AWS account; expands to `Name.AccessKey`, `Name.RoleArn`… at deployment.
        case awsAccount = "aws-account"
    }

    public var id: String
    public var projectID: String
    public var name: String
    public var kind: Kind
    /// Text values and account ids; nil for sensitive values.
    public var value: String?
    /// Sensitive values only.
    public var sealedValue: SealedSecret?
    public var scope: VariableScope

    public init(
        id: String = RecordID.make("var"), projectID: String, name: String, kind: Kind, value: String?,
        sealedValue: SealedSecret? = nil, scope: VariableScope = VariableScope()
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.kind = kind
        self.value = value
        self.sealedValue = sealedValue
        self.scope = scope
    }

    /// Names as Octopus allows them: letters, digits and `._-[]`, not starting with `Berth.`, which
    /// is reserved for system variables.
    public static func validateName(_ name: String, into errors: inout ValidationErrors) {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-[] "))
        if name.isEmpty || name.count > 200 {
            errors.add("name", "needs 1 to 200 characters")
        } else if name.unicodeScalars.contains(where: { !allowed.contains($0) }) || name.contains("#{") {
            errors.add("name", "'\(name)' may hold letters, digits, spaces and . _ - [ ] only")
        } else if name.lowercased().hasPrefix("berth.") {
            errors.add("name", "'\(name)' starts with 'Berth.', which is reserved for system variables")
        }
    }
}

/// Where a value applies. Each non-empty list must match (environments and targets by id, roles by
/// any role of the target); the most specific matching value of a name wins.
public struct VariableScope: Sendable, Hashable, Codable {
    public var environmentIDs: [String]
    public var roles: [String]
    public var targetIDs: [String]

    public init(environmentIDs: [String] = [], roles: [String] = [], targetIDs: [String] = []) {
        self.environmentIDs = environmentIDs
        self.roles = roles
        self.targetIDs = targetIDs
    }

    public var isUnscoped: Bool { environmentIDs.isEmpty && roles.isEmpty && targetIDs.isEmpty }

    /// Target beats role beats environment beats unscoped; two dimensions beat one.
    var specificity: Int {
        (targetIDs.isEmpty ? 0 : 4) + (roles.isEmpty ? 0 : 2) + (environmentIDs.isEmpty ? 0 : 1)
    }

    /// Whether the value applies in `context`. A value scoped to roles or targets does not apply
    /// where there is no target (a script step on the worker).
    func matches(_ context: VariableContext) -> Bool {
        if !environmentIDs.isEmpty, !environmentIDs.contains(context.environmentID) { return false }
        if !roles.isEmpty, Set(roles).isDisjoint(with: context.targetRoles) { return false }
        if !targetIDs.isEmpty, !targetIDs.contains(context.targetID ?? "") { return false }
        return true
    }
}

/// What a step runs in: the deployment's environment and, for target steps, the target.
public struct VariableContext: Sendable, Hashable {
    public var environmentID: String
    public var targetID: String?
    public var targetRoles: [String]

    public init(environmentID: String, targetID: String? = nil, targetRoles: [String] = []) {
        self.environmentID = environmentID
        self.targetID = targetID
        self.targetRoles = targetRoles
    }
}
