import AWSCore
import AWSSTS
import Foundation

/// A web identity token file and a role: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (EKS IRSA),
/// or the same keys from a profile. The file is read anew on every resolution, because the
/// platform rotates it; the STS call is unsigned.
public struct WebIdentityCredentialSource: CredentialSource {
    public struct Configuration: Sendable, Hashable {
        public var tokenFile: String
        public var roleARN: String
        public var sessionName: String?
        public var durationSeconds: Int?

        public init(tokenFile: String, roleARN: String, sessionName: String? = nil, durationSeconds: Int? = nil) {
            self.tokenFile = tokenFile
            self.roleARN = roleARN
            self.sessionName = sessionName
            self.durationSeconds = durationSeconds
        }
    }

    /// Fixed configuration (from a profile); `nil` reads the environment variables.
    public let configuration: Configuration?
    public let name = "web identity token file"

    public init(configuration: Configuration? = nil) {
        self.configuration = configuration
    }

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        let configuration: Configuration
        if let fixed = self.configuration {
            configuration = fixed
        } else {
            let environment = context.environment
            switch (environment["AWS_WEB_IDENTITY_TOKEN_FILE"], environment["AWS_ROLE_ARN"]) {
            case (nil, nil):
                return .skipped(reason: "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set")
            case (.some, nil):
                throw CredentialSourceError(
                    "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not; the role to assume is needed.")
            case (nil, .some):
                return .skipped(reason: "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not")
            case (.some(let file), .some(let role)):
                configuration = Configuration(tokenFile: file, roleARN: role, sessionName: environment["AWS_ROLE_SESSION_NAME"])
            }
        }
        return try await assume(configuration, context)
    }

    func assume(_ configuration: Configuration, _ context: CredentialContext) async throws -> CredentialSourceResult {
        let token: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: configuration.tokenFile))
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CredentialSourceError(
                "Cannot read the web identity token file \(configuration.tokenFile): \((error as NSError).localizedDescription).")
        }
        guard !token.isEmpty else {
            throw CredentialSourceError("The web identity token file \(configuration.tokenFile) is empty.")
        }
        let request = AssumeRoleWithWebIdentityRequest(
            roleARN: configuration.roleARN, roleSessionName: configuration.sessionName ?? generatedSessionName(context),
            webIdentityToken: token, durationSeconds: configuration.durationSeconds)
        do {
            let role = try await context.sts(credentials: nil).assumeRoleWithWebIdentity(request)
            return .found(
                role.credentials,
                detail:
                    "assumed \(configuration.roleARN) with the token in \(configuration.tokenFile) as session \(request.roleSessionName)"
            )
        } catch {
            throw CredentialSourceError.wrapping(error, while: "AssumeRoleWithWebIdentity for \(configuration.roleARN) failed")
        }
    }
}

/// A role assumed with a web identity token that is made on demand rather than read from a file:
/// Berth's own OIDC tokens. A fresh token is asked for on every resolution, so refreshed
/// credentials never depend on an expired token.
public struct WebIdentityTokenCredentialSource: CredentialSource {
    public var roleARN: String
    public var sessionName: String
    public var durationSeconds: Int?
    public let name: String
    let token: @Sendable () async throws -> String

    public init(
        name: String, roleARN: String, sessionName: String, durationSeconds: Int?,
        token: @escaping @Sendable () async throws -> String
    ) {
        self.name = name
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.durationSeconds = durationSeconds
        self.token = token
    }

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        let token: String
        do {
            token = try await self.token()
        } catch {
            throw CredentialSourceError("No web identity token for \(roleARN): \(error)")
        }
        let request = AssumeRoleWithWebIdentityRequest(
            roleARN: roleARN, roleSessionName: sessionName, webIdentityToken: token, durationSeconds: durationSeconds)
        do {
            let role = try await context.sts(credentials: nil).assumeRoleWithWebIdentity(request)
            return .found(role.credentials, detail: "assumed \(roleARN) with a web identity token as session \(sessionName)")
        } catch {
            throw CredentialSourceError.wrapping(error, while: "AssumeRoleWithWebIdentity for \(roleARN) failed")
        }
    }
}
