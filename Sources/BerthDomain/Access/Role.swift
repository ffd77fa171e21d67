import Foundation

/// A named set of permissions: one of the built-in roles, or a custom one.
public struct Role: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var description: String
    public var permissions: Set<Permission>
    public var isBuiltIn: Bool

    public init(id: String, name: String, description: String, permissions: Set<Permission>, isBuiltIn: Bool = false) {
        self.id = id
        self.name = name
        self.description = description
        self.permissions = permissions
        self.isBuiltIn = isBuiltIn
    }

    /// Every permission.
    public static let systemAdministrator = Role(
        id: "role-system-administrator", name: "System administrator",
        description: "Everything, in every space: users, teams, keys, the audit log and the server's configuration too.",
        permissions: Set(Permission.allCases), isBuiltIn: true)

    /// Everything within a space.
    public static let spaceManager = Role(
        id: "role-space-manager", name: "Space manager",
        description: "Everything within the space: environments, accounts, targets, workers, projects and deployments.",
        permissions: Set(Permission.allCases.filter { $0.level != .server }), isBuiltIn: true)

    /// A project, from its steps (scripts included) to its deployments.
    public static let projectLead = Role(
        id: "role-project-lead", name: "Project lead",
        description: "Edits projects (their script steps too), their variables and releases, and deploys them.",
        permissions: [
            .spaceView, .accountView, .projectView, .projectEdit, .scriptStepEdit, .variableEdit, .releaseCreate,
            .deploymentCreate, .taskCancel,
        ], isBuiltIn: true)

    /// Releases and deployments of projects as they are.
    public static let deployer = Role(
        id: "role-deployer", name: "Deployer", description: "Creates releases and deploys them; cancels deployments.",
        permissions: [.spaceView, .projectView, .releaseCreate, .deploymentCreate, .taskCancel], isBuiltIn: true)

    /// Reads what a space holds (never a secret: Berth shows none to anyone).
    public static let viewer = Role(
        id: "role-viewer", name: "Viewer", description: "Sees the space: environments, accounts, targets, projects, tasks.",
        permissions: [.spaceView, .accountView, .projectView], isBuiltIn: true)

    public static let builtIn: [Role] = [systemAdministrator, spaceManager, projectLead, deployer, viewer]
}
