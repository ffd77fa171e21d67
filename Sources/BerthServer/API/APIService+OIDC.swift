import BerthAPI
import BerthDomain
import BerthOIDC
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func getOidcProvider(_ input: Operations.GetOidcProvider.Input) async throws -> Operations.GetOidcProvider.Output {
        let configuration = issuer.configuration
        var audiences = [configuration.defaultAudience]
        for space in try await store.listSpaces() {
            for account in try await store.listAccounts(spaceID: space.id) where account.kind == .awsOIDC {
                if let audience = account.audience, !audiences.contains(audience) { audiences.append(audience) }
            }
        }
        let command =
            "aws iam create-open-id-connect-provider --url \(configuration.issuer) --client-id-list "
            + audiences.map(Self.shellQuoted).joined(separator: " ")
        return .ok(
            .init(
                body: .json(
                    .init(
                        issuer: configuration.issuer, providerHost: configuration.providerHost,
                        discoveryUrl: configuration.discoveryURL, jwksUrl: configuration.jwksURL,
                        defaultAudience: configuration.defaultAudience, audiences: audiences,
                        createProviderCommand: command, warning: configuration.httpsWarning))))
    }

    func listOidcKeys(_ input: Operations.ListOidcKeys.Input) async throws -> Operations.ListOidcKeys.Output {
        let page = try Paging.page(
            try await useCases.oidcKeys(by: try requester()), limit: try Paging.limit(input.query.limit, default: 1000),
            after: input.query.after, id: \.key.id)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.OidcKey.init), nextCursor: page.nextCursor))))
    }

    func rotateOidcKey(_ input: Operations.RotateOidcKey.Input) async throws -> Operations.RotateOidcKey.Output {
        var body: Components.Schemas.OidcKeyRotate?
        if case .json(let json) = input.body { body = json }
        if let seconds = body?.activateAfterSeconds, !(0...2_592_000).contains(seconds) {
            throw BerthError.invalid(
                "request", [.init(field: "activateAfterSeconds", message: "must be 0 to 2592000 (30 days); got \(seconds)")])
        }
        let algorithm = body?.algorithm.flatMap { SigningAlgorithm(rawValue: $0.rawValue) }
        let status = try await useCases.rotateOIDCKey(
            algorithm: algorithm, lead: body?.activateAfterSeconds.map { .seconds($0) }, by: try requester())
        return .created(.init(body: .json(.init(status))))
    }

    func revokeOidcKey(_ input: Operations.RevokeOidcKey.Input) async throws -> Operations.RevokeOidcKey.Output {
        let (status, actions) = try await useCases.revokeOIDCKey(input.path.key, by: try requester())
        return .ok(.init(body: .json(.init(key: .init(status), actions: actions))))
    }

    func getAccountTrustPolicy(_ input: Operations.GetAccountTrustPolicy.Input) async throws
        -> Operations.GetAccountTrustPolicy.Output
    {
        let account = try await useCases.account(input.path.account, space: input.path.space, by: try requester())
        let space = try await store.space(input.path.space)
        guard account.kind == .awsOIDC, let roleARN = account.roleARN else {
            throw BerthError(
                .badRequest,
                "The account '\(account.name)' is an access key account; trust policies are for OIDC accounts (aws-oidc).")
        }
        let scope = TrustPolicy.Scope(rawValue: input.query._for?.rawValue ?? "all") ?? .all
        var environmentSlug: String?
        if let reference = input.query.environment {
            environmentSlug = try await useCases.resolveEnvironments([reference], spaceID: space.id, field: "environment").first?
                .slug
        }
        var projectSlug: String?
        if let project = input.query.project {
            let slug = Slug.make(project)
            guard !slug.isEmpty else {
                throw BerthError.invalid(
                    "request", [.init(field: "project", message: "'\(project)' has no letters or digits to make a slug of")])
            }
            projectSlug = slug
        }
        if (projectSlug != nil || environmentSlug != nil), scope != .deployments, scope != .all {
            throw BerthError.invalid(
                "request",
                [.init(field: "for", message: "project and environment narrow deployment subjects; use for=deployments or all")])
        }
        let policy = Self.trustPolicy(
            for: account, roleARN: roleARN, in: space, issuer: issuer.configuration, scope: scope, projectSlug: projectSlug,
            environmentSlug: environmentSlug)
        return .ok(
            .init(
                body: .json(
                    .init(
                        accountId: account.id, roleArn: roleARN, providerArn: try policy.providerARN, audience: policy.audience,
                        subjects: policy.subjects, _operator: policy.usesWildcards ? "StringLike" : "StringEquals",
                        policy: try policy.document.rendered(pretty: true)))))
    }

    /// The trust policy an OIDC account's role needs for Berth's tokens (`scope`: which of them).
    static func trustPolicy(
        for account: Account, roleARN: String, in space: Space, issuer: OIDCIssuerConfiguration,
        scope: TrustPolicy.Scope = .all, projectSlug: String? = nil, environmentSlug: String? = nil
    ) -> TrustPolicy {
        TrustPolicy(
            providerHost: issuer.providerHost, roleARN: roleARN, audience: account.audience ?? issuer.defaultAudience,
            subjects: TrustPolicy.subjects(
                for: scope, account: account, spaceSlug: space.slug, projectSlug: projectSlug,
                environmentSlug: environmentSlug))
    }

    static func shellQuoted(_ value: String) -> String {
        value.allSatisfy { $0.isLetter || $0.isNumber || "-._:/".contains($0) }
            ? value : "'\(value.replacingOccurrences(of: "'", with: "'\\''"))'"
    }
}

extension Components.Schemas.OidcKey {
    init(_ status: OIDCIssuer.KeyStatus) {
        self.init(
            id: status.key.id, kid: status.key.kid, algorithm: status.key.algorithm == .es256 ? .es256 : .rs256,
            state: .init(rawValue: status.state.rawValue) ?? .expired, createdAt: status.key.createdAt,
            activatesAt: status.key.activatesAt, expiresAt: status.key.expiresAt, revokedAt: status.key.revokedAt,
            signsUntil: status.signsUntil, publishedUntil: status.publishedUntil)
    }
}
