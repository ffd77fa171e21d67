import AWSCore
import Foundation

/// The shapes of the AWS Systems Manager API that Berth reads, generated from botocore's model.
public enum SSM {}

/// A typed client for AWS Systems Manager (AWS JSON 1.1), read-only: what a release's preflight checks.
public struct SSMClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.ssm
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "SSMClient needs an AWSClient for AWS Systems Manager")
        self.client = client
    }
}
