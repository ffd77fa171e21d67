import AWSCore
import AWSSigV4
import Foundation

/// Fixed keys given in code or configuration (an access key account).
public struct StaticCredentialSource: CredentialSource {
    public let credentials: Credentials
    public let name: String

    public init(_ credentials: Credentials, name: String = "static keys") {
        self.credentials = credentials
        self.name = name
    }

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        .found(credentials, detail: "access key \(abbreviated(credentials.accessKeyID))")
    }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialSource: CredentialSource {
    public let name = "environment variables"

    public init() {}

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        let environment = context.environment
        if let profile = context.profile {
            return .skipped(reason: "the profile '\(profile)' was chosen explicitly")
        }
        let accessKey = environment["AWS_ACCESS_KEY_ID"]
        let secret = environment["AWS_SECRET_ACCESS_KEY"]
        switch (accessKey, secret) {
        case (nil, nil):
            return .skipped(reason: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        case (.some, nil):
            throw CredentialSourceError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both or neither.")
        case (nil, .some):
            throw CredentialSourceError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both or neither.")
        case (.some(let accessKey), .some(let secret)):
            let token = environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"]
            let credentials = Credentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: token)
            let kind = token == nil ? "access key" : "temporary access key"
            return .found(credentials, detail: "\(kind) \(abbreviated(accessKey)) from AWS_ACCESS_KEY_ID")
        }
    }
}
