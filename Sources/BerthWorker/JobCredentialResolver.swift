import AWSCore
import AWSCredentials
import AWSSigV4
import BerthDomain
import Foundation

/// Credentials a job resolved, for the log and for its AWS clients.
public struct ResolvedCredentials: Sendable {
    public var provider: CredentialCache
    public var resolution: CredentialResolution
    /// Values to mask from here on (secret key, session token).
    public var sensitiveValues: [String]
    /// Jobs with the same identity share credentials (and a worker's service pollers).
    public var identity: String
}

/// Where a job's web identity gets a token once the one it came with has been used.
public protocol WebIdentityTokenSource: Sendable {
    func freshWebIdentityToken() async throws -> String
}

/// Resolves a job's credential material on the worker, exactly as the job describes it: the
/// account's keys, a web identity token exchanged with STS, or the worker's own chain; then the
/// optional AssumeRole. Credentials are cached per identity on the worker, so many jobs of one
/// account cost one set of STS calls; every resolution leaves its trace in the job's log.
public struct JobCredentialResolver: Sendable {
    let registry: CredentialCacheRegistry
    let configuration: WorkerConfiguration
    let tokens = TokenSupplies()

    public init(registry: CredentialCacheRegistry, configuration: WorkerConfiguration) {
        self.registry = registry
        self.configuration = configuration
    }

    /// - Parameters:
    ///   - region: the region of the job's calls (credentials are cached per region too).
    ///   - refresh: where a web identity gets its next token.
    ///   - section: the log section of the job.
    public func resolve(
        _ credentials: StepJobCredentials, region: String, refresh: (any WebIdentityTokenSource)?, log: any StepJobLog,
        section: String?
    ) async throws -> ResolvedCredentials {
        let context = configuration.credentialContext(region: region)
        await log.addSensitive(credentials.sensitiveValues)
        await log.write(.info, section, "Credentials: \(credentials.summary)")
        if let assumeRole = credentials.assumeRole {
            await log.write(
                .info, section,
                "Then AssumeRole \(assumeRole.roleARN) as session '\(assumeRole.sessionName ?? AssumeRoleSettings.defaultSessionName)'"
                    + (assumeRole.externalID != nil ? " with an external ID" : "")
                    + (assumeRole.sessionDuration.map { " for \($0) s" } ?? "") + ".")
        }
        let resolver = try await makeResolver(credentials, context: context, refresh: refresh)
        var webIdentity: StepJobCredentials.WebIdentity?
        if case .webIdentity(let web) = credentials.source { webIdentity = web }
        let cacheKey = credentials.identity + "|region:\(region)"
        let cache = await registry.cache(for: cacheKey) { resolver }
        let resolution: CredentialResolution
        do {
            resolution = try await cache.resolution()
        } catch let error as CredentialResolutionError {
            await maskTokens(credentials.identity, log: log)
            for entry in error.trace.entries {
                await log.write(.verbose, section, "  \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)")
            }
            if let webIdentity, error.awsErrorCode != nil {
                await log.write(
                    .error, section,
                    OIDCRefusal.explain(
                        code: error.awsErrorCode?.rawValue, message: error.message, policy: webIdentity.trustPolicy,
                        subject: webIdentity.subject))
            }
            throw error
        }
        await maskTokens(credentials.identity, log: log)
        var sensitive = credentials.sensitiveValues + [resolution.credentials.secretAccessKey]
        if let token = resolution.credentials.sessionToken { sensitive.append(token) }
        await log.addSensitive(sensitive)
        for entry in resolution.trace.entries {
            await log.write(.verbose, section, "  \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)")
        }
        await log.write(.info, section, "Resolved credentials from \(resolution.source).")
        return ResolvedCredentials(provider: cache, resolution: resolution, sensitiveValues: sensitive, identity: cacheKey)
    }

    /// The resolver `credentials` describe (not cached, nothing logged): the base source, then
    /// the AssumeRole if any.
    public func makeResolver(
        _ credentials: StepJobCredentials, context: CredentialContext, refresh: (any WebIdentityTokenSource)?
    ) async throws -> any CredentialResolver {
        let base: any CredentialResolver
        switch credentials.source {
        case .accessKey(let key):
            let source = StaticCredentialSource(
                Credentials(accessKeyID: key.accessKeyID, secretAccessKey: key.secretAccessKey),
                name: "account '\(key.accountName)'")
            base = CredentialChain(sources: [source], context: context)
        case .webIdentity(let web):
            let supply = await tokens.supply(for: credentials.identity)
            await supply.offer(web.token, refresh: refresh)
            let source = WebIdentityTokenCredentialSource(
                name: "OIDC account '\(web.accountName)'", roleARN: web.roleARN, sessionName: web.sessionName,
                durationSeconds: web.durationSeconds
            ) { try await supply.next() }
            base = CredentialChain(sources: [source], context: context)
        case .worker:
            base = CredentialChain.standard(context: context)
        }
        guard let assumeRole = credentials.assumeRole else { return base }
        let options = AssumeRoleResolver.Options(
            roleARN: assumeRole.roleARN, sessionName: assumeRole.sessionName ?? AssumeRoleSettings.defaultSessionName,
            durationSeconds: assumeRole.sessionDuration, externalID: assumeRole.externalID)
        return try AssumeRoleResolver(base: base, options: options, context: context)
    }

    /// Masks every token handed out for `identity` in this log: none is ever written, but a token
    /// is a credential and must not appear even by accident.
    func maskTokens(_ identity: String, log: any StepJobLog) async {
        let used = await tokens.supply(for: identity).handedOut
        if !used.isEmpty { await log.addSensitive(used) }
    }
}

extension StepJobLog {
    func write(_ level: LogLevel, _ section: String?, _ message: String) async {
        await write(level, section: section, message)
    }
}

/// The web identity tokens of each identity on this worker. A cached resolver outlives the job
/// that created it; when its credentials need refreshing it takes the newest unused token a job
/// brought, or else asks the host of the newest job for one.
actor TokenSupplies {
    private var supplies: [String: TokenSupply] = [:]

    func supply(for identity: String) -> TokenSupply {
        if let supply = supplies[identity] { return supply }
        let supply = TokenSupply()
        supplies[identity] = supply
        return supply
    }
}

actor TokenSupply {
    /// A token a job brought is used only this soon after it was minted (tokens live 5 minutes).
    static let freshFor: Duration = .seconds(120)

    private var unused: (token: String, offeredAt: ContinuousClock.Instant)?
    private var refresh: (any WebIdentityTokenSource)?
    /// The last few tokens handed out, to mask in the logs of jobs that share them.
    private(set) var handedOut: [String] = []

    func offer(_ token: String, refresh: (any WebIdentityTokenSource)?) {
        unused = (token, .now)
        if let refresh { self.refresh = refresh }
    }

    func next() async throws -> String {
        let token: String
        if let unused, ContinuousClock.now - unused.offeredAt < Self.freshFor || refresh == nil {
            token = unused.token
            self.unused = nil
        } else if let refresh {
            token = try await refresh.freshWebIdentityToken()
        } else {
            throw BerthError(.internalError, "The job's web identity token was used, and nothing can mint another.")
        }
        handedOut = Array((handedOut + [token]).suffix(4))
        return token
    }
}
