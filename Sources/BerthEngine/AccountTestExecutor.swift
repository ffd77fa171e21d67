import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDomain
import BerthStore
import Foundation

/// "Save and test": resolve the account's credentials (an OIDC account mints an account-test token
/// and calls AssumeRoleWithWebIdentity) and call STS GetCallerIdentity with them.
public struct AccountTestExecutor: TaskExecutor {
    public let kind = ServerTask.Kind.accountTest
    let store: BerthStore
    let credentials: TargetCredentials
    let configuration: EngineConfiguration

    public init(store: BerthStore, credentials: TargetCredentials, configuration: EngineConfiguration) {
        self.store = store
        self.credentials = credentials
        self.configuration = configuration
    }

    public func execute(_ task: ServerTask, log: TaskLogWriter) async throws -> ExecutionResult {
        guard let accountID = task.accountID, let account = try await store.account(id: accountID) else {
            throw BerthError(.notFound, "The account of this test no longer exists.")
        }
        let region = account.region ?? EngineConfiguration.fallbackRegion
        await log.info("Testing the \(account.kind.rawValue) account '\(account.name)' with STS GetCallerIdentity in \(region).")
        let space = try await store.space(account.spaceID)
        let source = try credentials.accountSource(
            account, purpose: .accountTest, values: OIDCSubject.Values(space: space.slug, account: account.slug),
            context: configuration.credentialContext(region: region))
        await log.addSensitive(source.sensitiveValues)
        await log.info("Credentials: \(source.summary)")
        let resolution: CredentialResolution
        do {
            resolution = try await source.resolver.resolve()
        } catch let error as CredentialResolutionError {
            await credentials.maskMintedToken(source.identity, log: log)
            // Only a refusal by AWS says something about the token; a network failure does not.
            let refused = error.awsErrorCode != nil
            var message = (refused ? "AWS refused the credentials: " : "The credentials could not be resolved: ") + error.message
            if let oidc = source.oidc, refused {
                let explanation = oidc.explain(error)
                await log.error(message)
                await log.error(explanation)
                message += " — " + (explanation.split(separator: "\n").first.map(String.init) ?? "")
            } else {
                await log.error(message)
            }
            return ExecutionResult(outcome: TaskOutcome(state: .failed, errorMessage: await log.mask(message)))
        }
        await credentials.maskMintedToken(source.identity, log: log)
        await log.addSensitive([resolution.credentials.secretAccessKey] + [resolution.credentials.sessionToken].compactMap { $0 })
        let sts = STSClient(
            client: try configuration.client(
                for: .sts, region: region, credentials: StaticCredentialProvider(resolution.credentials)))
        do {
            let identity = try await sts.getCallerIdentity()
            await log.info("AWS accepted the credentials: \(identity.arn) (account \(identity.account)).")
            return ExecutionResult(outcome: TaskOutcome(state: .succeeded, identityARN: identity.arn))
        } catch let error as AWSError {
            let message = "AWS refused the credentials: \(error)"
            await log.error(message)
            return ExecutionResult(outcome: TaskOutcome(state: .failed, errorMessage: message))
        }
    }
}
