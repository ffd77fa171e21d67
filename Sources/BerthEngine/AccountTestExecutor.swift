import AWSCore
import AWSCredentials
import AWSSTS
import BerthDomain
import BerthStore
import Foundation

/// "Save and test": resolve the account's credentials and call STS GetCallerIdentity.
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
        let region = account.region ?? "us-east-1"
        await log.info("Testing the \(account.kind.rawValue) account '\(account.name)' with STS GetCallerIdentity in \(region).")
        let (resolver, secret) = try credentials.accountResolver(
            account, context: configuration.credentialContext(region: region))
        await log.addSensitive([secret])
        let resolution = try await resolver.resolve()
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
