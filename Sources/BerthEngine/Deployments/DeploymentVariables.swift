import BerthDomain
import BerthOIDC
import BerthStore
import Foundation

/// The candidate values of a deployment's variables: the release's frozen variables opened, and
/// AWS-account variables expanded as Octopus does (`Name` is the account's slug; access key
/// accounts add `Name.AccessKey` and `Name.SecretKey`; OIDC accounts add `Name.RoleArn`,
/// `Name.SessionDuration` and `Name.OpenIdConnect.Jwt`, a token minted for this deployment).
struct DeploymentVariables {
    let store: BerthStore
    let secrets: SecretBox
    let issuer: OIDCIssuer

    func candidates(
        _ release: Release, subject: OIDCSubject.Values, spaceID: String
    ) async throws -> [ScopedValue] {
        var values: [ScopedValue] = []
        for variable in release.snapshot.variables {
            switch variable.kind {
            case .text:
                values.append(
                    ScopedValue(name: variable.name, value: variable.value ?? "", isSensitive: false, scope: variable.scope))
            case .sensitive:
                guard let sealed = variable.sealedValue else { continue }
                let clear = try secrets.open(sealed, for: .projectVariable(variableID: variable.id))
                values.append(ScopedValue(name: variable.name, value: clear, isSensitive: true, scope: variable.scope))
            case .awsAccount:
                guard let accountID = variable.value, let account = try await store.account(id: accountID) else {
                    throw BerthError(
                        .notFound, "The AWS account of the variable '\(variable.name)' no longer exists; set the variable again.")
                }
                values += try await expand(variable, account: account, subject: subject)
            }
        }
        return values
    }

    func expand(_ variable: ProjectVariable, account: Account, subject: OIDCSubject.Values) async throws -> [ScopedValue] {
        let name = variable.name
        var values = [ScopedValue(name: name, value: account.slug, isSensitive: false, scope: variable.scope)]
        switch account.kind {
        case .awsAccessKey:
            values.append(
                ScopedValue(
                    name: "\(name).AccessKey", value: account.accessKeyID ?? "", isSensitive: false, scope: variable.scope))
            if let sealed = account.secretKey {
                let secret = try secrets.open(sealed, for: .accountSecretKey(accountID: account.id))
                values.append(ScopedValue(name: "\(name).SecretKey", value: secret, isSensitive: true, scope: variable.scope))
            }
        case .awsOIDC:
            values.append(
                ScopedValue(name: "\(name).RoleArn", value: account.roleARN ?? "", isSensitive: false, scope: variable.scope))
            let duration = account.sessionDuration ?? Account.defaultOIDCSessionDuration
            values.append(
                ScopedValue(name: "\(name).SessionDuration", value: String(duration), isSensitive: false, scope: variable.scope))
            var accountSubject = subject
            accountSubject.account = account.slug
            let token = try await issuer.mint(
                subject: OIDCSubject.compose(.deployment, values: accountSubject, keys: account.subjectKeys),
                audience: account.audience ?? issuer.configuration.defaultAudience, customClaims: try account.customClaimValues())
            values.append(
                ScopedValue(name: "\(name).OpenIdConnect.Jwt", value: token.token, isSensitive: true, scope: variable.scope))
        }
        return values
    }
}
