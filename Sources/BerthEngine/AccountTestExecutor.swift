import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDomain
import BerthStore
import BerthWorker
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
        let material = try await credentials.accountMaterial(
            account, purpose: .accountTest, values: OIDCSubject.Values(space: space.slug, account: account.slug))
        await log.addSensitive(material.credentials.sensitiveValues)
        await log.info("Credentials: \(material.credentials.summary)")
        // Not through the credential cache: a test asks AWS now, whatever an earlier resolution holds.
        let resolver = try await credentials.resolver.makeResolver(
            material.credentials, context: configuration.worker.credentialContext(region: region), refresh: material.refresh)
        let resolution: CredentialResolution
        do {
            resolution = try await resolver.resolve()
        } catch let error as CredentialResolutionError {
            // Only a refusal by AWS says something about the token; a network failure does not.
            let refused = error.awsErrorCode != nil
            var message = (refused ? "AWS refused the credentials: " : "The credentials could not be resolved: ") + error.message
            if case .webIdentity(let web) = material.credentials.source, refused {
                let explanation = OIDCRefusal.explain(
                    code: error.awsErrorCode?.rawValue, message: error.message, policy: web.trustPolicy, subject: web.subject)
                await log.error(message)
                await log.error(explanation)
                message += " — " + (explanation.split(separator: "\n").first.map(String.init) ?? "")
            } else {
                await log.error(message)
            }
            return ExecutionResult(outcome: TaskOutcome(state: .failed, errorMessage: await log.mask(message)))
        }
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
