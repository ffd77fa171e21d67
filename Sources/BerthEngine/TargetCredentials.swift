import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDomain
import BerthOIDC
import BerthStore
import BerthWorker
import Crypto
import Foundation

/// The AWS credentials a target's work runs with, exactly as a deployment step would get them:
/// the server decides the material (the account's keys opened, an OIDC token minted for this use,
/// or "the worker's own chain", then the target's optional AssumeRole) and a
/// ``JobCredentialResolver`` resolves it, as a worker resolves a job's. Credentials are cached per
/// identity, so checking many targets of one account costs one set of STS calls.
public struct TargetCredentials: Sendable {
    let store: BerthStore
    let secrets: SecretBox
    let issuer: OIDCIssuer
    let resolver: JobCredentialResolver

    public init(store: BerthStore, secrets: SecretBox, resolver: JobCredentialResolver, issuer: OIDCIssuer) {
        self.store = store
        self.secrets = secrets
        self.resolver = resolver
        self.issuer = issuer
    }

    public typealias Resolved = ResolvedCredentials

    /// What the credentials are for; an OIDC account's token says so in its subject.
    public enum Use: Sendable {
        case healthCheck
        case deployment(project: String, environment: String, deployedBy: String?)
    }

    /// - Parameter section: the log section of a deployment step on this target.
    public func resolve(
        for target: ECSClusterTarget, use: Use = .healthCheck, log: TaskLogWriter, section: String? = nil
    ) async throws -> Resolved {
        let request = Request(target)
        let material = try await material(request, use: use)
        return try await resolver.resolve(
            material.credentials, region: request.region, refresh: material.refresh, log: log, section: section)
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

    /// A job's credential material, and where its web identity gets its next token.
    struct Material: Sendable {
        var credentials: StepJobCredentials
        var refresh: TokenMinter?
    }

    /// The material for `request`: the account's (its keys opened, or a token minted now for
    /// `use`) or the worker's own chain, then the request's AssumeRole.
    func material(_ request: Request, use: Use) async throws -> Material {
        var material: Material
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
            case .deployment(let project, let environment, let deployedBy):
                purpose = .deployment
                values.target = nil
                values.project = project
                values.environment = environment
                values.deployedBy = deployedBy
            }
            material = try await accountMaterial(account, purpose: purpose, values: values)
        case .workerCredentials:
            material = Material(credentials: StepJobCredentials(source: .worker, assumeRole: nil, identity: "worker"))
        }
        if let assumeRole = request.assumeRole {
            let externalIDDigest = assumeRole.externalID.map { SHA256.hash(data: Data($0.utf8)).hexString } ?? "-"
            material.credentials.assumeRole = assumeRole
            material.credentials.identity +=
                "|assume:\(assumeRole.roleARN)|\(assumeRole.sessionName ?? AssumeRoleSettings.defaultSessionName)|\(assumeRole.sessionDuration ?? 0)|\(externalIDDigest)"
        }
        return material
    }

    /// An account's own credentials: its keys opened, or for an OIDC account a token minted now
    /// for `purpose`, to exchange with AssumeRoleWithWebIdentity.
    func accountMaterial(_ account: Account, purpose: OIDCSubject.Purpose, values: OIDCSubject.Values) async throws -> Material {
        switch account.kind {
        case .awsAccessKey:
            guard let accessKeyID = account.accessKeyID, let sealed = account.secretKey else {
                throw BerthError(.validationFailed, "The account '\(account.name)' has no access key or secret key.")
            }
            let secret = try secrets.open(sealed, for: .accountSecretKey(accountID: account.id))
            return Material(
                credentials: StepJobCredentials(
                    source: .accessKey(
                        .init(accountName: account.name, accessKeyID: accessKeyID, secretAccessKey: secret)),
                    assumeRole: nil, identity: "account:\(account.id):\(account.updatedAt.timeIntervalSince1970)"))
        case .awsOIDC:
            guard let roleARN = account.roleARN else {
                throw BerthError(.validationFailed, "The OIDC account '\(account.name)' has no role ARN.")
            }
            let minter = TokenMinter(
                issuer: issuer, subject: OIDCSubject.compose(purpose, values: values, keys: account.subjectKeys),
                audience: account.audience ?? issuer.configuration.defaultAudience,
                claims: try account.claimValues(deployedBy: purpose == .deployment ? values.deployedBy : nil))
            let web = StepJobCredentials.WebIdentity(
                accountName: account.name, roleARN: roleARN, sessionName: AssumeRoleSettings.defaultSessionName,
                durationSeconds: account.sessionDuration ?? Account.defaultOIDCSessionDuration,
                token: try await minter.freshWebIdentityToken(), subject: minter.subject, audience: minter.audience,
                issuer: issuer.configuration.issuer, providerHost: issuer.configuration.providerHost,
                customClaimNames: minter.recipe.claims.map(\.name))
            return Material(
                credentials: StepJobCredentials(
                    source: .webIdentity(web), assumeRole: nil,
                    identity: "oidc:\(account.id):\(account.updatedAt.timeIntervalSince1970)|sub:\(minter.subject)"),
                refresh: minter)
        }
    }
}

/// Mints the tokens of one OIDC subject: a job's first, and any its credentials need later.
struct TokenMinter: WebIdentityTokenSource {
    let issuer: OIDCIssuer
    let recipe: TokenRecipe

    init(issuer: OIDCIssuer, subject: String, audience: String, claims: [(String, JSONValue)]) {
        self.issuer = issuer
        self.recipe = TokenRecipe(
            subject: subject, audience: audience, claims: claims.map { TokenRecipe.Claim(name: $0.0, value: $0.1) })
    }

    var subject: String { recipe.subject }
    var audience: String { recipe.audience }

    func freshWebIdentityToken() async throws -> String {
        try await recipe.mint(with: issuer)
    }
}

/// What a job's OIDC tokens say: kept on the server (sealed with the job) so that any node can
/// mint the job's next token when its worker asks.
public struct TokenRecipe: Sendable, Hashable, Codable {
    public struct Claim: Sendable, Hashable, Codable {
        public var name: String
        public var value: JSONValue
    }

    public var subject: String
    public var audience: String
    public var claims: [Claim]

    public func mint(with issuer: OIDCIssuer) async throws -> String {
        try await issuer.mint(subject: subject, audience: audience, customClaims: claims.map { ($0.name, $0.value) }).token
    }
}

extension TargetCredentials.Request {
    init(_ target: ECSClusterTarget) {
        self.init(
            spaceID: target.spaceID, authentication: target.authentication, assumeRole: target.assumeRole,
            region: target.region, targetSlug: target.slug)
    }
}
