import BerthDomain
import BerthOIDC
import BerthStore
import Foundation

/// The candidate values of a deployment's variables: the release's frozen variables opened, and
/// AWS-account variables expanded as Octopus does (`Name` is the account's slug; access key
/// accounts add `Name.AccessKey` and `Name.SecretKey`; OIDC accounts add `Name.RoleArn`,
/// `Name.SessionDuration` and `Name.OpenIdConnect.Jwt`).
///
/// An account variable that applies in the deployment's environment must name an account allowed
/// there, or the deployment fails before any step. `Name.OpenIdConnect.Jwt` is not minted here:
/// tokens live minutes, so each step that uses one gets a fresh one when it starts
/// (``mintTokens(_:in:subject:used:)``).
struct DeploymentVariables {
    let store: BerthStore
    let secrets: SecretBox
    let issuer: OIDCIssuer

    /// The OIDC token an AWS-account variable stands for, minted when a step that uses it starts.
    struct DeferredToken: Sendable {
        /// `Name.OpenIdConnect.Jwt`.
        var name: String
        var variable: String
        var scope: VariableScope
        var account: Account
    }

    /// What a deployment's variables hold before any step runs.
    struct Candidates: Sendable {
        var values: [ScopedValue] = []
        var tokens: [DeferredToken] = []
    }

    /// A token minted for one step on one target.
    struct MintedToken: Sendable {
        var name: String
        var token: OIDCToken
    }

    func candidates(_ release: Release, environment: Environment) async throws -> Candidates {
        var candidates = Candidates()
        for variable in release.snapshot.variables {
            switch variable.kind {
            case .text:
                candidates.values.append(
                    ScopedValue(name: variable.name, value: variable.value ?? "", isSensitive: false, scope: variable.scope))
            case .sensitive:
                guard let sealed = variable.sealedValue else { continue }
                let clear = try secrets.open(sealed, for: .projectVariable(variableID: variable.id))
                candidates.values.append(
                    ScopedValue(name: variable.name, value: clear, isSensitive: true, scope: variable.scope))
            case .awsAccount:
                // A value scoped to other environments never applies here: its account is not checked or opened.
                if !variable.scope.environmentIDs.isEmpty, !variable.scope.environmentIDs.contains(environment.id) { continue }
                guard let accountID = variable.value, let account = try await store.account(id: accountID) else {
                    throw BerthError(
                        .notFound, "The AWS account of the variable '\(variable.name)' no longer exists; set the variable again.")
                }
                guard account.allows(environmentID: environment.id) else {
                    throw BerthError(
                        .validationFailed,
                        "The variable '\(variable.name)' names the AWS account '\(account.name)', which may not be used in \(environment.name) (the account is restricted to other environments). Scope the variable to the account's environments, or allow \(environment.name) on the account."
                    )
                }
                try expand(variable, account: account, into: &candidates)
            }
        }
        return candidates
    }

    func expand(_ variable: ProjectVariable, account: Account, into candidates: inout Candidates) throws {
        let name = variable.name
        candidates.values.append(ScopedValue(name: name, value: account.slug, isSensitive: false, scope: variable.scope))
        switch account.kind {
        case .awsAccessKey:
            candidates.values.append(
                ScopedValue(
                    name: "\(name).AccessKey", value: account.accessKeyID ?? "", isSensitive: false, scope: variable.scope))
            if let sealed = account.secretKey {
                let secret = try secrets.open(sealed, for: .accountSecretKey(accountID: account.id))
                candidates.values.append(
                    ScopedValue(name: "\(name).SecretKey", value: secret, isSensitive: true, scope: variable.scope))
            }
        case .awsOIDC:
            candidates.values.append(
                ScopedValue(name: "\(name).RoleArn", value: account.roleARN ?? "", isSensitive: false, scope: variable.scope))
            let duration = account.sessionDuration ?? Account.defaultOIDCSessionDuration
            candidates.values.append(
                ScopedValue(name: "\(name).SessionDuration", value: String(duration), isSensitive: false, scope: variable.scope))
            candidates.tokens.append(
                DeferredToken(name: "\(name).OpenIdConnect.Jwt", variable: name, scope: variable.scope, account: account))
        }
    }

    /// Mints, for one step on one target, the tokens of `tokens` that apply in `context` (the most
    /// specific per name, as for any value) and that the step uses (`used` says so by name).
    func mintTokens(
        _ tokens: [DeferredToken], in context: VariableContext, subject: OIDCSubject.Values, used: (String) -> Bool
    ) async throws -> [MintedToken] {
        // Resolve which token wins per name the way values do, carrying the token's position as the value.
        let winners = VariableDictionary.resolving(
            tokens.enumerated().map { ScopedValue(name: $1.name, value: String($0), isSensitive: false, scope: $1.scope) },
            in: context)
        var minted: [MintedToken] = []
        for entry in winners.all where used(entry.name) {
            guard let position = Int(entry.value) else { continue }
            let deferred = tokens[position]
            var accountSubject = subject
            accountSubject.account = deferred.account.slug
            let token = try await issuer.mint(
                subject: OIDCSubject.compose(.deployment, values: accountSubject, keys: deferred.account.subjectKeys),
                audience: deferred.account.audience ?? issuer.configuration.defaultAudience,
                customClaims: try deferred.account.claimValues(deployedBy: subject.deployedBy))
            minted.append(MintedToken(name: deferred.name, token: token))
        }
        return minted
    }
}
