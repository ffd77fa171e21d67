import Foundation

/// A release sent to an environment; it runs as the server task `taskID`.
public struct Deployment: Sendable, Hashable {
    public var id: String
    public var spaceID: String
    public var projectID: String
    public var releaseID: String
    public var environmentID: String
    public var taskID: String
    public var createdAt: Date

    public init(
        id: String = RecordID.make("dep"), spaceID: String, projectID: String, releaseID: String, environmentID: String,
        taskID: String, createdAt: Date
    ) {
        self.id = id
        self.spaceID = spaceID
        self.projectID = projectID
        self.releaseID = releaseID
        self.environmentID = environmentID
        self.taskID = taskID
        self.createdAt = createdAt
    }
}

/// How long a step waits for ECS: not at all, until done, or until done within a limit.
public enum WaitOption: Sendable, Hashable {
    case dontWait
    case wait
    case waitWithTimeout(Duration)

    /// The default when a step says nothing: wait, at most 30 minutes (ECS's own deployment
    /// budget for a healthy rollout behind a load balancer with the 300 s deregistration delay).
    public static let `default` = WaitOption.waitWithTimeout(.seconds(1800))

    public var timeout: Duration? {
        if case .waitWithTimeout(let limit) = self { return limit }
        return nil
    }
}
