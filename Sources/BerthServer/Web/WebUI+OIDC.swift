import BerthDomain
import BerthOIDC
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// Berth as an OpenID Connect provider: what to register in AWS, and each OIDC account's trust
/// policy, ready to copy.
extension WebUI {
    func oidcPage(_ visit: Visit) async throws -> Response {
        let configuration = useCases.issuer.configuration
        var accounts: [[String: Any]] = []
        for space in try await useCases.listSpaces(by: visit.requester)
        where visit.requester.may(.accountView, at: AccessScope(spaceID: space.id)) {
            for account in try await useCases.store.listAccounts(spaceID: space.id) where account.kind == .awsOIDC {
                guard let roleARN = account.roleARN else { continue }
                let policy = APIService.trustPolicy(for: account, roleARN: roleARN, in: space, issuer: configuration)
                accounts.append([
                    "id": "policy-\(account.id)", "name": account.name, "space": space.name, "role": roleARN,
                    "policy": try policy.document.rendered(pretty: true),
                ])
            }
        }
        let keys =
            visit.requester.may(.serverConfigure, at: .server)
            ? try await useCases.oidcKeys(by: visit.requester).map { status in
                [
                    "kid": status.key.kid, "algorithm": status.key.algorithm.rawValue, "state": status.state.rawValue,
                    "created": Self.time(status.key.createdAt), "expires": Self.time(status.key.expiresAt),
                ] as [String: Any]
            } : []
        return try render(
            "oidc",
            [
                "issuer": configuration.issuer, "discovery": configuration.discoveryURL, "jwks": configuration.jwksURL,
                "audience": configuration.defaultAudience,
                "command":
                    "aws iam create-open-id-connect-provider --url \(configuration.issuer) --client-id-list \(configuration.defaultAudience)",
                "warning": configuration.httpsWarning ?? "", "accounts": accounts, "keys": keys, "mayConfigure": !keys.isEmpty,
            ], title: "OpenID Connect", visit: visit)
    }
}
