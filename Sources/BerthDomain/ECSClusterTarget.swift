import Foundation

/// An ECS cluster as a deployment target.
public struct ECSClusterTarget: Sendable, Hashable {
    public enum Authentication: Sendable, Hashable {
        /// A stored account, by id.
        case account(String)
        /// The ambient credentials of the worker that runs the step.
        case workerCredentials
    }

    public var id: String
    public var spaceID: String
    public var name: String
    /// Derived from the name, never stored apart from it (the store keeps a copy for unique lookups).
    public var slug: String { Slug.make(name) }
    public var environmentIDs: [String]
    public var roles: [String]
    public var authentication: Authentication
    public var assumeRole: AssumeRoleSettings?
    public var region: String
    public var clusterName: String
    public var workerPoolID: String
    public var health: TargetHealth
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String = RecordID.make("tgt"), spaceID: String, name: String, environmentIDs: [String], roles: [String],
        authentication: Authentication, assumeRole: AssumeRoleSettings?, region: String, clusterName: String,
        workerPoolID: String, health: TargetHealth = TargetHealth(), createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.spaceID = spaceID
        self.name = name
        self.environmentIDs = environmentIDs
        self.roles = roles
        self.authentication = authentication
        self.assumeRole = assumeRole
        self.region = region
        self.clusterName = clusterName
        self.workerPoolID = workerPoolID
        self.health = health
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}
