import AWSCore
import Foundation

/// The shapes of the Amazon ECR API that Berth reads, generated from botocore's model.
public enum ECR {}

/// A typed client for Amazon ECR (AWS JSON 1.1), read-only: what a release's preflight checks.
public struct ECRClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.ecr
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "ECRClient needs an AWSClient for Amazon ECR")
        self.client = client
    }
}
