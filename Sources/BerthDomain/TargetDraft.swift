import AWSRules
import Foundation

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
