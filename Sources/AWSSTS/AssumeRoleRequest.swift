import AWSCore
import AWSSigV4
import Foundation

/// The parameters of `AssumeRole`.
public struct AssumeRoleRequest: Sendable, Hashable {
    public var roleARN: String
    public var roleSessionName: String
    /// 900–43200 seconds; `nil` uses the role's default (one hour).
    public var durationSeconds: Int?
    /// The secret-ish value the role's trust policy requires in `sts:ExternalId`.
    public var externalID: String?
    /// Session tags, passed on as principal tags.
    public var tags: [SessionTag]
    public var transitiveTagKeys: [String]
    /// An inline session policy (JSON) that narrows the role's permissions.
    public var policy: String?

    public init(
        roleARN: String, roleSessionName: String, durationSeconds: Int? = nil, externalID: String? = nil,
        tags: [SessionTag] = [], transitiveTagKeys: [String] = [], policy: String? = nil
    ) {
        self.roleARN = roleARN
        self.roleSessionName = roleSessionName
        self.durationSeconds = durationSeconds
        self.externalID = externalID
        self.tags = tags
        self.transitiveTagKeys = transitiveTagKeys
        self.policy = policy
    }

    public func validate() throws(AWSClientError) {
        try STSValidation.roleARN(roleARN)
        try STSValidation.sessionName(roleSessionName)
        if let durationSeconds { try STSValidation.duration(durationSeconds) }
        if let externalID { try STSValidation.externalID(externalID) }
        guard tags.count <= 50 else {
            throw AWSClientError(.invalidRequest, "AssumeRole takes at most 50 session tags; \(tags.count) were given.")
        }
    }

    var queryParameters: [SigningRequest.QueryItem] {
        var items: [SigningRequest.QueryItem] = [.init("RoleArn", roleARN), .init("RoleSessionName", roleSessionName)]
        if let durationSeconds { items.append(.init("DurationSeconds", String(durationSeconds))) }
        if let externalID { items.append(.init("ExternalId", externalID)) }
        if let policy { items.append(.init("Policy", policy)) }
        for (index, tag) in tags.enumerated() {
            items.append(.init("Tags.member.\(index + 1).Key", tag.key))
            items.append(.init("Tags.member.\(index + 1).Value", tag.value))
        }
        for (index, key) in transitiveTagKeys.enumerated() {
            items.append(.init("TransitiveTagKeys.member.\(index + 1)", key))
        }
        return items
    }
}

/// A session tag: a key and a value attached to the assumed-role session.
public struct SessionTag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// The parameters of `AssumeRoleWithWebIdentity`.
public struct AssumeRoleWithWebIdentityRequest: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var roleARN: String
    public var roleSessionName: String
    /// The OIDC token (a JWT). Sensitive: it never appears in descriptions or errors.
    public var webIdentityToken: String
    public var durationSeconds: Int?

    public init(roleARN: String, roleSessionName: String, webIdentityToken: String, durationSeconds: Int? = nil) {
        self.roleARN = roleARN
        self.roleSessionName = roleSessionName
        self.webIdentityToken = webIdentityToken
        self.durationSeconds = durationSeconds
    }

    public var description: String {
        "AssumeRoleWithWebIdentityRequest(roleARN: \(roleARN), roleSessionName: \(roleSessionName), webIdentityToken: <redacted>)"
    }

    public var debugDescription: String { description }

    public func validate() throws(AWSClientError) {
        try STSValidation.roleARN(roleARN)
        try STSValidation.sessionName(roleSessionName)
        if let durationSeconds { try STSValidation.duration(durationSeconds) }
        guard webIdentityToken.utf8.count >= 4 else {
            throw AWSClientError(.invalidRequest, "The web identity token is empty or too short to be a token.")
        }
    }

    var queryParameters: [SigningRequest.QueryItem] {
        var items: [SigningRequest.QueryItem] = [
            .init("RoleArn", roleARN), .init("RoleSessionName", roleSessionName),
            .init("WebIdentityToken", webIdentityToken),
        ]
        if let durationSeconds { items.append(.init("DurationSeconds", String(durationSeconds))) }
        return items
    }
}
