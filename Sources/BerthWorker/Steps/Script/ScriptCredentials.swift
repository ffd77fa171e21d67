import AWSCore
import AWSSTS
import BerthDomain

/// Whose credentials a Run AWS CLI script step without target roles runs with, as Octopus's "Run
/// an AWS CLI script" lets a step choose: an `account` (its name, or an AWS-account variable
/// `#{Deployer}`, which expands to the account's slug) or else the worker's own chain, then
/// optionally an AssumeRole (`assumeRoleArn`, `assumeRoleSessionName`, `assumeRoleDurationSeconds`,
/// `assumeRoleExternalId`). With none of these, the script gets no credentials from Berth.
public struct ScriptCredentials: Equatable, Sendable {
    public static let keys = [
        "account", "assumeRoleArn", "assumeRoleSessionName", "assumeRoleDurationSeconds", "assumeRoleExternalId",
    ]

    public var account: String?
    public var assumeRole: AssumeRoleSettings?

    /// The step's choice, or nil when it names neither an account nor a role.
    public static func settings(_ properties: StepProperties) throws(BerthError) -> ScriptCredentials? {
        let account = try properties.string("account").flatMap { $0.isEmpty ? nil : $0 }
        let roleARN = try properties.string("assumeRoleArn").flatMap { $0.isEmpty ? nil : $0 }
        let sessionName = try properties.string("assumeRoleSessionName")
        let duration = try properties.int("assumeRoleDurationSeconds")
        let externalID = try properties.string("assumeRoleExternalId")
        guard let roleARN else {
            for key in ["assumeRoleSessionName", "assumeRoleDurationSeconds", "assumeRoleExternalId"] where properties.has(key) {
                throw properties.failure(key, "needs assumeRoleArn")
            }
            return account.map { ScriptCredentials(account: $0) }
        }
        func check(_ key: String, _ validation: () throws(AWSClientError) -> Void) throws(BerthError) {
            do { try validation() } catch { throw properties.failure(key, "is not valid: \(error.message)") }
        }
        try check("assumeRoleArn") { () throws(AWSClientError) in try STSValidation.roleARN(roleARN) }
        if let sessionName {
            try check("assumeRoleSessionName") { () throws(AWSClientError) in try STSValidation.sessionName(sessionName) }
        }
        if let duration {
            try check("assumeRoleDurationSeconds") { () throws(AWSClientError) in try STSValidation.duration(duration) }
        }
        if let externalID {
            try check("assumeRoleExternalId") { () throws(AWSClientError) in try STSValidation.externalID(externalID) }
        }
        return ScriptCredentials(
            account: account,
            assumeRole: AssumeRoleSettings(
                roleARN: roleARN, sessionName: sessionName, sessionDuration: duration, externalID: externalID))
    }
}
