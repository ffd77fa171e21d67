import AWSCore
import AWSSigV4
import Foundation

/// A typed client for AWS STS (the Query protocol).
public struct STSClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.sts
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "STSClient needs an AWSClient for AWS STS")
        self.client = client
    }

    /// Who the credentials belong to. Needs no permission.
    public func getCallerIdentity() async throws -> CallerIdentity {
        let result = try await client.queryCall(action: "GetCallerIdentity", parameters: [])
        guard let account = result.string("Account"), let arn = result.string("Arn"), let userID = result.string("UserId") else {
            throw AWSClientError(.invalidResponse, "AWS STS GetCallerIdentity answered without Account, Arn or UserId.")
        }
        return CallerIdentity(account: account, arn: arn, userID: userID)
    }

    /// Temporary credentials for a role, signed with the caller's credentials.
    ///
    /// The request is checked first (ARN, session name, duration, external ID), so a typo fails
    /// here with a clear message rather than as an AWS validation error.
    public func assumeRole(_ request: AssumeRoleRequest) async throws -> AssumedRole {
        try request.validate()
        let result = try await client.queryCall(action: "AssumeRole", parameters: request.queryParameters)
        return try AssumedRole(result: result, action: "AssumeRole")
    }

    /// Temporary credentials for a role in exchange for an OIDC token. Sent unsigned: the token is
    /// the proof of identity.
    public func assumeRoleWithWebIdentity(_ request: AssumeRoleWithWebIdentityRequest) async throws -> AssumedRole {
        try request.validate()
        let result = try await client.queryCall(
            action: "AssumeRoleWithWebIdentity", parameters: request.queryParameters, signed: false)
        return try AssumedRole(result: result, action: "AssumeRoleWithWebIdentity")
    }
}

/// The answer of `GetCallerIdentity`.
public struct CallerIdentity: Sendable, Hashable, Codable {
    public var account: String
    public var arn: String
    public var userID: String

    public init(account: String, arn: String, userID: String) {
        self.account = account
        self.arn = arn
        self.userID = userID
    }
}

/// The answer of `AssumeRole` and `AssumeRoleWithWebIdentity`.
public struct AssumedRole: Sendable, Hashable {
    public var credentials: Credentials
    /// `arn:aws:sts::123456789012:assumed-role/Role/session`.
    public var assumedRoleARN: String
    public var assumedRoleID: String
    /// For web identity: the token's `sub` and `aud` as AWS read them.
    public var subjectFromWebIdentityToken: String?
    public var audience: String?
    public var provider: String?

    init(result: XMLTree, action: String) throws(AWSClientError) {
        guard let accessKeyID = result.string("Credentials", "AccessKeyId"),
            let secret = result.string("Credentials", "SecretAccessKey"),
            let token = result.string("Credentials", "SessionToken"),
            let expirationText = result.string("Credentials", "Expiration")
        else {
            throw AWSClientError(.invalidResponse, "AWS STS \(action) answered without complete Credentials.")
        }
        guard let expiration = AWSTimestamp.parseISO8601(expirationText) else {
            throw AWSClientError(
                .invalidResponse, "AWS STS \(action) answered with an unreadable Expiration '\(expirationText)'.")
        }
        self.credentials = Credentials(
            accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
        self.assumedRoleARN = result.string("AssumedRoleUser", "Arn") ?? ""
        self.assumedRoleID = result.string("AssumedRoleUser", "AssumedRoleId") ?? ""
        self.subjectFromWebIdentityToken = result.string("SubjectFromWebIdentityToken")
        self.audience = result.string("Audience")
        self.provider = result.string("Provider")
    }
}
