import AWSCore
import AWSSTS
import AWSSigV4
import Foundation

/// A named profile of the shared config and credentials files: static keys, `role_arn` with
/// `source_profile` or `credential_source` (and `external_id`, `role_session_name`,
/// `duration_seconds`), or `role_arn` with `web_identity_token_file`.
public struct ProfileCredentialSource: CredentialSource {
    public let name = "shared config and credentials files"

    public init() {}

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        let files = try SharedConfigFiles.load(context.environment)
        let profile = context.effectiveProfile
        let chosen = context.profile != nil || context.environment["AWS_PROFILE"] != nil
        guard files.profiles[profile] != nil else {
            if chosen {
                throw CredentialSourceError("The profile '\(profile)' is not in \(files.locations).")
            }
            return .skipped(
                reason: files.existingFiles.isEmpty
                    ? "neither \(files.configPath) nor \(files.credentialsPath) exists"
                    : "no profile 'default' in \(files.existingFiles.joined(separator: " or "))")
        }
        return try await resolve(profile: profile, files: files, visited: [], context)
    }

    func resolve(profile: String, files: SharedConfigFiles, visited: [String], _ context: CredentialContext) async throws
        -> CredentialSourceResult
    {
        guard let settings = files.profiles[profile] else {
            throw CredentialSourceError(
                "The profile '\(profile)' (named by source_profile of '\(visited.last ?? "")') is not in \(files.locations).")
        }
        let label = "profile '\(profile)'"
        let hasStaticKeys = settings["aws_access_key_id"] != nil || settings["aws_secret_access_key"] != nil
        // A source profile with keys of its own uses them, even when it also names a role.
        if let roleARN = settings["role_arn"], !(hasStaticKeys && !visited.isEmpty) {
            if let tokenFile = settings["web_identity_token_file"] {
                let configuration = WebIdentityCredentialSource.Configuration(
                    tokenFile: tokenFile, roleARN: roleARN, sessionName: settings["role_session_name"],
                    durationSeconds: try duration(settings, label))
                return try await WebIdentityCredentialSource(configuration: configuration).load(context)
            }
            return try await assumeRole(roleARN, profile: profile, settings: settings, files: files, visited: visited, context)
        }
        if settings["sso_start_url"] != nil || settings["sso_session"] != nil {
            throw CredentialSourceError(
                "The \(label) uses IAM Identity Center (SSO), which Berth does not read yet; use `aws configure export-credentials` or keys."
            )
        }
        if settings["credential_process"] != nil {
            throw CredentialSourceError("The \(label) uses credential_process, which Berth does not run.")
        }
        switch (settings["aws_access_key_id"], settings["aws_secret_access_key"]) {
        case (.some(let key), .some(let secret)):
            let token = settings["aws_session_token"]
            let credentials = Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
            return .found(credentials, detail: "access key \(abbreviated(key)) of the \(label)")
        case (.some, nil):
            throw CredentialSourceError("The \(label) has aws_access_key_id but no aws_secret_access_key.")
        case (nil, .some):
            throw CredentialSourceError("The \(label) has aws_secret_access_key but no aws_access_key_id.")
        case (nil, nil):
            throw CredentialSourceError("The \(label) has no credentials: no keys, no role_arn, no web_identity_token_file.")
        }
    }

    func assumeRole(
        _ roleARN: String, profile: String, settings: [String: String], files: SharedConfigFiles, visited: [String],
        _ context: CredentialContext
    ) async throws -> CredentialSourceResult {
        let label = "profile '\(profile)'"
        if settings["mfa_serial"] != nil {
            throw CredentialSourceError("The \(label) asks for MFA (mfa_serial), which an unattended deployment cannot answer.")
        }
        let base: CredentialSourceResult
        switch (settings["source_profile"], settings["credential_source"]) {
        case (.some, .some):
            throw CredentialSourceError("The \(label) sets both source_profile and credential_source; keep one.")
        case (nil, nil):
            throw CredentialSourceError(
                "The \(label) has role_arn but neither source_profile, credential_source nor web_identity_token_file.")
        case (.some(let source), nil):
            let chain = visited + [profile]
            if chain.contains(source) && !(source == profile && files.profiles[source]?["aws_access_key_id"] != nil) {
                throw CredentialSourceError("The profiles form a loop: \((chain + [source]).joined(separator: " → ")).")
            }
            base = try await resolve(profile: source, files: files, visited: chain, context)
        case (nil, .some(let source)):
            let sourceProvider: any CredentialSource
            switch source {
            case "Environment": sourceProvider = EnvironmentCredentialSource()
            case "Ec2InstanceMetadata": sourceProvider = InstanceMetadataCredentialSource()
            case "EcsContainer": sourceProvider = ContainerCredentialSource()
            default:
                throw CredentialSourceError(
                    "The \(label) has credential_source = \(source); use Environment, Ec2InstanceMetadata or EcsContainer.")
            }
            var sourceContext = context
            sourceContext.profile = nil
            base = try await sourceProvider.load(sourceContext)
        }
        guard case .found(let sourceCredentials, let sourceDetail, var nested) = base else {
            if case .skipped(let reason) = base {
                throw CredentialSourceError("The source of the \(label) gave no credentials: \(reason).")
            }
            throw CredentialSourceError("The source of the \(label) gave no credentials.")
        }
        nested.record("source of \(label)", .used, sourceDetail)
        let request = AssumeRoleRequest(
            roleARN: roleARN, roleSessionName: settings["role_session_name"] ?? generatedSessionName(context),
            durationSeconds: try duration(settings, label), externalID: settings["external_id"])
        do {
            let role = try await context.sts(credentials: sourceCredentials).assumeRole(request)
            let external = request.externalID == nil ? "" : " with an external ID"
            return .found(
                role.credentials, detail: "assumed \(roleARN)\(external) as session \(request.roleSessionName) for the \(label)",
                nested: nested)
        } catch {
            var wrapped = CredentialSourceError.wrapping(error, while: "AssumeRole \(roleARN) for the \(label) failed")
            wrapped.nested = nested
            throw wrapped
        }
    }

    func duration(_ settings: [String: String], _ label: String) throws -> Int? {
        guard let text = settings["duration_seconds"] else { return nil }
        guard let value = Int(text) else {
            throw CredentialSourceError("The \(label) has duration_seconds = \(text), which is not a number of seconds.")
        }
        return value
    }
}
