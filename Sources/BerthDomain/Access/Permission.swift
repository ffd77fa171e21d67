/// What a caller may do: a named permission, held through a role granted to one of the caller's
/// teams. Deny by default: an action needs its permission, granted for its space, project and
/// environment.
public enum Permission: String, CaseIterable, Sendable, Hashable, Codable, Comparable {
    // The server as a whole: granted only without a space (every space) and without limits.
    case serverConfigure = "ServerConfigure"
    case userManage = "UserManage"
    case teamManage = "TeamManage"
    case apiKeyManage = "ApiKeyManage"
    case auditView = "AuditView"
    // A space and what belongs to it as a whole.
    case spaceView = "SpaceView"
    case environmentEdit = "EnvironmentEdit"
    case accountView = "AccountView"
    case accountEdit = "AccountEdit"
    case targetEdit = "TargetEdit"
    case targetHealthCheck = "TargetHealthCheck"
    case workerEdit = "WorkerEdit"
    // A project.
    case projectView = "ProjectView"
    case projectEdit = "ProjectEdit"
    /// Adding or changing a Run AWS CLI script step: the power to run code with the project's credentials.
    case scriptStepEdit = "ScriptStepEdit"
    case variableEdit = "VariableEdit"
    case releaseCreate = "ReleaseCreate"
    // A project in an environment.
    case deploymentCreate = "DeploymentCreate"
    case taskCancel = "TaskCancel"

    /// What a grant's limits apply to.
    public enum Level: Sendable, Hashable {
        /// The whole server: only a grant for every space, without limits, gives it.
        case server
        /// A space: a grant for the space gives it, whatever projects and environments it is limited to.
        case space
        /// A project: a grant limited to projects gives it for those only.
        case project
        /// A project in an environment: limited by projects and by environments.
        case environment
    }

    public var level: Level {
        switch self {
        case .serverConfigure, .userManage, .teamManage, .apiKeyManage, .auditView: .server
        case .spaceView, .environmentEdit, .accountView, .accountEdit, .targetEdit, .targetHealthCheck, .workerEdit: .space
        case .projectView, .projectEdit, .scriptStepEdit, .variableEdit, .releaseCreate: .project
        case .deploymentCreate, .taskCancel: .environment
        }
    }

    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
