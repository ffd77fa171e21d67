import Foundation

/// What the last health check of a target found.
public enum HealthStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case unknown, healthy, unhealthy, unavailable
}

/// A target's last health verdict and the task that found it.
public struct TargetHealth: Sendable, Hashable {
    public var status: HealthStatus
    public var message: String?
    public var checkedAt: Date?
    public var taskID: String?

    public init(status: HealthStatus = .unknown, message: String? = nil, checkedAt: Date? = nil, taskID: String? = nil) {
        self.status = status
        self.message = message
        self.checkedAt = checkedAt
        self.taskID = taskID
    }
}
