import Foundation

/// A deployment as a listing shows it: which release of which project went to which environment,
/// and how its task stands.
public struct DeploymentSummary: Sendable, Hashable {
    public var deployment: Deployment
    public var projectName: String
    public var releaseVersion: String
    public var environmentName: String
    public var state: ServerTask.State
    public var errorMessage: String?
    public var completedAt: Date?
    /// The username of who queued it.
    public var deployedBy: String?

    public init(
        deployment: Deployment, projectName: String, releaseVersion: String, environmentName: String,
        state: ServerTask.State, errorMessage: String? = nil, completedAt: Date? = nil, deployedBy: String? = nil
    ) {
        self.deployedBy = deployedBy
        self.deployment = deployment
        self.projectName = projectName
        self.releaseVersion = releaseVersion
        self.environmentName = environmentName
        self.state = state
        self.errorMessage = errorMessage
        self.completedAt = completedAt
    }
}
