import AWSRules
import Foundation

/// The optional AssumeRole a target makes on top of its source credentials.
public struct AssumeRoleSettings: Sendable, Hashable, Codable {
    /// The session name when none is set: the same for every target with the same settings, so
    /// that they can share credentials too.
    public static let defaultSessionName = "berth"

    public var roleARN: String
    /// ``defaultSessionName`` when nil.
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
