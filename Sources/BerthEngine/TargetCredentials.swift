import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDomain
import BerthStore
import Crypto
import Foundation

/// Resolves the AWS credentials a target's work runs with, exactly as a deployment step would:
/// the account's keys or the worker's ambient chain, then the target's optional AssumeRole.
/// Credentials are cached per identity, so checking many targets of one account costs one set of
/// STS calls.
public struct TargetCredentials: Sendable {
    /// The default role session name, shared by every target with the same settings so that they
    /// can share credentials too.
    public static let defaultSessionName = "berth"

    let store: BerthStore
    let secrets: SecretBox
    let registry: CredentialCacheRegistry
    let configuration: EngineConfiguration

    public init(store: BerthStore, secrets: SecretBox, registry: CredentialCacheRegistry, configuration: EngineConfiguration) {
        self.store = store
        self.secrets = secrets
        self.registry = registry
        self.configuration = configuration
    }

    /// What a resolution produced, for the log and for the AWS clients.
    public struct Resolved: Sendable {
        public var provider: CredentialCache
        public var resolution: CredentialResolution
        /// Values to mask from here on (secret key, session token).
        public var sensitiveValues: [String]
    }

    public func resolve(for target: ECSClusterTarget, log: TaskLogWriter) async throws -> Resolved {
        var identity: String
        var sensitive: [String] = []
        let context = configuration.credentialContext(region: target.region)
        let base: any CredentialResolver
        switch target.authentication {
        case .account(let accountID):
            guard let account = try await store.account(id: accountID) else {
                throw BerthError(.notFound, "The target's account \(accountID) no longer exists.")
            }
            let (resolver, secret) = try accountResolver(account, context: context)
            base = resolver
            sensitive.append(secret)
            await log.addSensitive([secret])
            identity = "account:\(account.id):\(account.updatedAt.timeIntervalSince1970)"
            await log.info("Credentials: the access key account '\(account.name)' (\(account.accessKeyID ?? "")).")
        case .workerCredentials:
            base = CredentialChain.standard(context: context)
            identity = "worker"
            await log.info("Credentials: the worker's own (environment, profile, web identity, container, IMDSv2).")
        }
        var resolver = base
        if let assumeRole = target.assumeRole {
            let options = AssumeRoleResolver.Options(
                roleARN: assumeRole.roleARN, sessionName: assumeRole.sessionName ?? Self.defaultSessionName,
                durationSeconds: assumeRole.sessionDuration, externalID: assumeRole.externalID)
            resolver = try AssumeRoleResolver(base: base, options: options, context: context)
            let externalIDDigest = assumeRole.externalID.map { SHA256.hash(data: Data($0.utf8)).hexString } ?? "-"
            identity +=
                "|assume:\(assumeRole.roleARN)|\(options.sessionName ?? "")|\(assumeRole.sessionDuration ?? 0)|\(externalIDDigest)"
            await log.info(
                "Then AssumeRole \(assumeRole.roleARN) as session '\(options.sessionName ?? "")'"
                    + (assumeRole.externalID != nil ? " with an external ID" : "")
                    + (assumeRole.sessionDuration.map { " for \($0) s" } ?? "") + ".")
        }
        let finalResolver = resolver
        let cache = await registry.cache(for: identity + "|region:\(target.region)") { finalResolver }
        let resolution: CredentialResolution
        do {
            resolution = try await cache.resolution()
        } catch let error as CredentialResolutionError {
            for entry in error.trace.entries {
                await log.verbose("  \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)")
            }
            throw error
        }
        sensitive.append(resolution.credentials.secretAccessKey)
        if let token = resolution.credentials.sessionToken { sensitive.append(token) }
        await log.addSensitive(sensitive)
        for entry in resolution.trace.entries {
            await log.verbose("  \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)")
        }
        await log.info("Resolved credentials from \(resolution.source).")
        return Resolved(provider: cache, resolution: resolution, sensitiveValues: sensitive)
    }

    /// The resolver for an account's own credentials, and the secret to mask.
    func accountResolver(_ account: Account, context: CredentialContext) throws -> (any CredentialResolver, String) {
        switch account.kind {
        case .awsAccessKey:
            guard let accessKeyID = account.accessKeyID, let sealed = account.secretKey else {
                throw BerthError(.validationFailed, "The account '\(account.name)' has no access key or secret key.")
            }
            let secret = try secrets.open(sealed, for: .accountSecretKey(accountID: account.id))
            let source = StaticCredentialSource(
                Credentials(accessKeyID: accessKeyID, secretAccessKey: secret), name: "account '\(account.name)'")
            return (CredentialChain(sources: [source], context: context), secret)
        case .awsOIDC:
            throw BerthError(
                .validationFailed,
                "The account '\(account.name)' is an OIDC account; Berth does not issue OIDC tokens yet, so it cannot be used until the identity provider is set up (see the OIDC issue)."
            )
        }
    }
}
