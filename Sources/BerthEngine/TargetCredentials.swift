import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDomain
import BerthOIDC
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
    let issuer: OIDCIssuer
    let mintedTokens = MintedTokens()

    public init(
        store: BerthStore, secrets: SecretBox, registry: CredentialCacheRegistry, configuration: EngineConfiguration,
        issuer: OIDCIssuer
    ) {
        self.store = store
        self.secrets = secrets
        self.registry = registry
        self.configuration = configuration
        self.issuer = issuer
    }

    /// What a resolution produced, for the log and for the AWS clients.
    public struct Resolved: Sendable {
        public var provider: CredentialCache
        public var resolution: CredentialResolution
        /// Values to mask from here on (secret key, session token, OIDC token).
        public var sensitiveValues: [String]
        /// Targets with the same identity share credentials (and a deployment's service poller).
        public var identity: String
    }

    /// What the credentials are for; an OIDC account's token says so in its subject.
    public enum Use: Sendable {
        case healthCheck
        case deployment(project: String, environment: String)
    }

    /// - Parameter section: the log section of a deployment step on this target.
    public func resolve(
        for target: ECSClusterTarget, use: Use = .healthCheck, log: TaskLogWriter, section: String? = nil
    ) async throws -> Resolved {
        try await resolve(
            Request(
                spaceID: target.spaceID, authentication: target.authentication, assumeRole: target.assumeRole,
                region: target.region, targetSlug: target.slug),
            use: use, log: log, section: section)
    }

    /// Where credentials come from: a target's settings, or a script step's own account and role.
    struct Request: Sendable {
        var spaceID: String
        var authentication: ECSClusterTarget.Authentication
        var assumeRole: AssumeRoleSettings?
        var region: String
        /// Part of a health check's OIDC subject.
        var targetSlug: String?
    }

    func resolve(_ request: Request, use: Use, log: TaskLogWriter, section: String?) async throws -> Resolved {
        var identity: String
        var sensitive: [String] = []
        var oidc: AccountSource.OIDCUse?
        let context = configuration.credentialContext(region: request.region)
        let base: any CredentialResolver
        switch request.authentication {
        case .account(let accountID):
            guard let account = try await store.account(id: accountID) else {
                throw BerthError(.notFound, "The account \(accountID) no longer exists.")
            }
            let space = try await store.space(request.spaceID)
            var values = OIDCSubject.Values(space: space.slug, account: account.slug, target: request.targetSlug)
            let purpose: OIDCSubject.Purpose
            switch use {
            case .healthCheck:
                purpose = .healthCheck
            case .deployment(let project, let environment):
                purpose = .deployment
                values.target = nil
                values.project = project
                values.environment = environment
            }
            let source = try accountSource(account, purpose: purpose, values: values, context: context)
            base = source.resolver
            sensitive += source.sensitiveValues
            await log.addSensitive(source.sensitiveValues)
            identity = source.identity
            oidc = source.oidc
            await log.write(.info, section: section, "Credentials: \(source.summary)")
        case .workerCredentials:
            base = CredentialChain.standard(context: context)
            identity = "worker"
            await log.write(
                .info, section: section, "Credentials: the worker's own (environment, profile, web identity, container, IMDSv2).")
        }
        var resolver = base
        if let assumeRole = request.assumeRole {
            let options = AssumeRoleResolver.Options(
                roleARN: assumeRole.roleARN, sessionName: assumeRole.sessionName ?? Self.defaultSessionName,
                durationSeconds: assumeRole.sessionDuration, externalID: assumeRole.externalID)
            resolver = try AssumeRoleResolver(base: base, options: options, context: context)
            let externalIDDigest = assumeRole.externalID.map { SHA256.hash(data: Data($0.utf8)).hexString } ?? "-"
            identity +=
                "|assume:\(assumeRole.roleARN)|\(options.sessionName ?? "")|\(assumeRole.sessionDuration ?? 0)|\(externalIDDigest)"
            await log.write(
                .info, section: section,
                "Then AssumeRole \(assumeRole.roleARN) as session '\(options.sessionName ?? "")'"
                    + (assumeRole.externalID != nil ? " with an external ID" : "")
                    + (assumeRole.sessionDuration.map { " for \($0) s" } ?? "") + ".")
        }
        let finalResolver = resolver
        let cacheKey = identity + "|region:\(request.region)"
        let cache = await registry.cache(for: cacheKey) { finalResolver }
        let resolution: CredentialResolution
        do {
            resolution = try await cache.resolution()
        } catch let error as CredentialResolutionError {
            await maskMintedToken(identity, log: log)
            for entry in error.trace.entries {
                await log.write(.verbose, section: section, "  \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)")
            }
            if let oidc, error.awsErrorCode != nil { await log.write(.error, section: section, oidc.explain(error)) }
            throw error
        }
        await maskMintedToken(identity, log: log)
        sensitive.append(resolution.credentials.secretAccessKey)
        if let token = resolution.credentials.sessionToken { sensitive.append(token) }
        await log.addSensitive(sensitive)
        for entry in resolution.trace.entries {
            await log.write(.verbose, section: section, "  \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)")
        }
        await log.write(.info, section: section, "Resolved credentials from \(resolution.source).")
        return Resolved(provider: cache, resolution: resolution, sensitiveValues: sensitive, identity: cacheKey)
    }

    /// Masks the last token minted for `identity` in this log: it is never written, but a token is a
    /// credential and must not appear even by accident.
    func maskMintedToken(_ identity: String, log: TaskLogWriter) async {
        if let token = await mintedTokens.latest(for: identity) { await log.addSensitive([token]) }
    }

    /// An account's own credentials: its keys, or for an OIDC account a token minted for `purpose`
    /// exchanged with AssumeRoleWithWebIdentity.
    struct AccountSource: Sendable {
        struct OIDCUse: Sendable {
            var subject: String
            var policy: TrustPolicy

            /// The refusal in words, with the trust policy that accepts this token.
            func explain(_ error: CredentialResolutionError) -> String {
                OIDCRefusal.explain(
                    code: error.awsErrorCode?.rawValue, message: error.message, policy: policy, subject: subject)
            }
        }

        var resolver: any CredentialResolver
        /// Accounts (and OIDC subjects) with the same identity share cached credentials.
        var identity: String
        var sensitiveValues: [String]
        var summary: String
        var oidc: OIDCUse?
    }

    func accountSource(
        _ account: Account, purpose: OIDCSubject.Purpose, values: OIDCSubject.Values, context: CredentialContext
    ) throws -> AccountSource {
        switch account.kind {
        case .awsAccessKey:
            guard let accessKeyID = account.accessKeyID, let sealed = account.secretKey else {
                throw BerthError(.validationFailed, "The account '\(account.name)' has no access key or secret key.")
            }
            let secret = try secrets.open(sealed, for: .accountSecretKey(accountID: account.id))
            let source = StaticCredentialSource(
                Credentials(accessKeyID: accessKeyID, secretAccessKey: secret), name: "account '\(account.name)'")
            return AccountSource(
                resolver: CredentialChain(sources: [source], context: context),
                identity: "account:\(account.id):\(account.updatedAt.timeIntervalSince1970)", sensitiveValues: [secret],
                summary: "the access key account '\(account.name)' (\(accessKeyID)).")
        case .awsOIDC:
            guard let roleARN = account.roleARN else {
                throw BerthError(.validationFailed, "The OIDC account '\(account.name)' has no role ARN.")
            }
            let subject = OIDCSubject.compose(purpose, values: values, keys: account.subjectKeys)
            let audience = account.audience ?? issuer.configuration.defaultAudience
            let claims = try account.customClaimValues()
            let duration = account.sessionDuration ?? Account.defaultOIDCSessionDuration
            let identity = "oidc:\(account.id):\(account.updatedAt.timeIntervalSince1970)|sub:\(subject)"
            let issuer = self.issuer
            let minted = mintedTokens
            let source = WebIdentityTokenCredentialSource(
                name: "OIDC account '\(account.name)'", roleARN: roleARN, sessionName: Self.defaultSessionName,
                durationSeconds: duration
            ) {
                let token = try await issuer.mint(subject: subject, audience: audience, customClaims: claims)
                await minted.record(token.token, for: identity)
                return token.token
            }
            let policy = TrustPolicy(
                providerHost: issuer.configuration.providerHost, roleARN: roleARN, audience: audience, subjects: [subject])
            let claimNames = claims.isEmpty ? "" : "; custom claims \(claims.map(\.0).joined(separator: ", "))"
            return AccountSource(
                resolver: CredentialChain(sources: [source], context: context), identity: identity, sensitiveValues: [],
                summary:
                    "the OIDC account '\(account.name)': a token from \(issuer.configuration.issuer) with sub \"\(subject)\" and aud \"\(audience)\"\(claimNames), exchanged with AssumeRoleWithWebIdentity for \(roleARN) (\(duration) s; the token itself is never logged).",
                oidc: AccountSource.OIDCUse(subject: subject, policy: policy))
        }
    }
}

/// The last token minted per credential identity, so that every log that uses those credentials
/// masks it.
actor MintedTokens {
    private var tokens: [String: String] = [:]

    func record(_ token: String, for identity: String) { tokens[identity] = token }
    func latest(for identity: String) -> String? { tokens[identity] }
}
