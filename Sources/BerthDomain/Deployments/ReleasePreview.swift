import Foundation

/// A release previewed in an environment (`berth release verify` or `diff`): which release, where,
/// and the task that runs it. Not a deployment: nothing changes, and neither the dashboard, the
/// lifecycle nor `--release previous` count it.
public struct ReleasePreview: Sendable, Hashable {
    public var taskID: String
    public var spaceID: String
    public var projectID: String
    public var releaseID: String
    public var environmentID: String
    public var createdAt: Date

    public init(taskID: String, spaceID: String, projectID: String, releaseID: String, environmentID: String, createdAt: Date) {
        self.taskID = taskID
        self.spaceID = spaceID
        self.projectID = projectID
        self.releaseID = releaseID
        self.environmentID = environmentID
        self.createdAt = createdAt
    }
}
