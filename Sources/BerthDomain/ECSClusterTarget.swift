import AWSCore
import AWSSTS
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
    public var slug: String
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
        self.slug = Slug.make(name)
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

/// The optional AssumeRole a target makes on top of its source credentials.
public struct AssumeRoleSettings: Sendable, Hashable, Codable {
    public var roleARN: String
    /// Generated when nil.
    public var sessionName: String?
    /// The role's default when nil.
    public var sessionDuration: Int?
    public var externalID: String?

    public init(roleARN: String, sessionName: String? = nil, sessionDuration: Int? = nil, externalID: String? = nil) {
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.sessionDuration = sessionDuration
        self.externalID = externalID
    }

    func validate(into errors: inout ValidationErrors) {
        errors.check("assumeRole.roleArn") { try STSValidation.roleARN(roleARN) }
        if let sessionName { errors.check("assumeRole.sessionName") { try STSValidation.sessionName(sessionName) } }
        if let sessionDuration { errors.check("assumeRole.sessionDuration") { try STSValidation.duration(sessionDuration) } }
        if let externalID { errors.check("assumeRole.externalId") { try STSValidation.externalID(externalID) } }
    }
}

public enum HealthStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case unknown, healthy, unhealthy, unavailable
}

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

/// The fields of a target as a caller sends them, with references already resolved to records.
public struct TargetDraft: Sendable {
    public var name: String
    public var environments: [Environment]
    public var roles: [String]
    public var account: Account?
    public var useWorkerCredentials: Bool
    public var assumeRole: AssumeRoleSettings?
    public var region: String
    public var clusterName: String

    public init(
        name: String, environments: [Environment], roles: [String], account: Account?, useWorkerCredentials: Bool,
        assumeRole: AssumeRoleSettings?, region: String, clusterName: String
    ) {
        self.name = name
        self.environments = environments
        self.roles = roles
        self.account = account
        self.useWorkerCredentials = useWorkerCredentials
        self.assumeRole = assumeRole
        self.region = region
        self.clusterName = clusterName
    }

    public func validate() throws(BerthError) {
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        if environments.isEmpty { errors.add("environments", "needs at least one environment") }
        if roles.isEmpty { errors.add("roles", "needs at least one target role, such as 'web-api'") }
        for role in roles where !Self.isValidRole(role) {
            errors.add("roles", "'\(role)' is not a target role: use 1 to 100 letters, digits, '.', '_' or '-'")
        }
        switch (account, useWorkerCredentials) {
        case (nil, false):
            errors.add("account", "is required unless useWorkerCredentials is true")
        case (.some, true):
            errors.add("useWorkerCredentials", "cannot be combined with an account; choose one")
        case (.some(let account), false):
            for environment in environments where !account.allows(environmentID: environment.id) {
                errors.add(
                    "account",
                    "the account '\(account.name)' is restricted to other environments and cannot be used in '\(environment.name)'"
                )
            }
        case (nil, true):
            break
        }
        assumeRole?.validate(into: &errors)
        errors.check("region") { _ = try Region(region) }
        if !Self.isValidCluster(clusterName) {
            errors.add(
                "clusterName",
                "'\(clusterName)' is not an ECS cluster name (1 to 255 letters, digits, '-' or '_') or cluster ARN")
        }
        try errors.throwIfAny("ECS cluster target")
    }

    static func isValidRole(_ role: String) -> Bool {
        (1...100).contains(role.count)
            && role.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }
    }

    static func isValidCluster(_ name: String) -> Bool {
        if name.hasPrefix("arn:") {
            let parts = name.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            return parts.count == 6 && parts[2] == "ecs" && parts[5].hasPrefix("cluster/") && parts[5].count > 8
        }
        return (1...255).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
            }
    }
}
