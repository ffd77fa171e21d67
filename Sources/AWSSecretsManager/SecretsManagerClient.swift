import AWSCore
import Foundation

/// The shapes of the AWS Secrets Manager API that Berth reads, generated from botocore's model.
public enum SecretsManager {}

/// A typed client for AWS Secrets Manager (AWS JSON 1.1), read-only: what a release's preflight checks.
public struct SecretsManagerClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.secretsManager
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "SecretsManagerClient needs an AWSClient for AWS Secrets Manager")
        self.client = client
    }
}
