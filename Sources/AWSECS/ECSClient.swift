import AWSCore
import Foundation

/// The shapes of the Amazon ECS API, generated from botocore's model (`ECS.Task`,
/// `ECS.RegisterTaskDefinitionRequest`, …).
public enum ECS {}

/// A typed client for Amazon ECS (AWS JSON 1.1).
///
/// ```swift
/// let ecs = try ECSClient(region: "eu-west-1", credentialProvider: chain)
/// let clusters = try await ecs.describeClusters(.init(clusters: ["prod"]))
/// ```
public struct ECSClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.ecs
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "ECSClient needs an AWSClient for Amazon ECS")
        self.client = client
    }

}
