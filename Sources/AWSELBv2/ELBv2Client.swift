import AWSCore
import AWSSigV4
import Foundation

/// A read-only client for Elastic Load Balancing v2 (AWS Query): what a release's preflight asks
/// of target groups.
public struct ELBv2Client: AWSServiceClient {
    public static let service = AWSServiceDescriptor.elbv2
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "ELBv2Client needs an AWSClient for Elastic Load Balancing")
        self.client = client
    }

    public struct TargetGroup: Sendable, Hashable {
        public var arn: String
        public var name: String?
        public var port: Int?
        public var targetType: String?
        public var protocolName: String?
    }

    /// `DescribeTargetGroups` of up to 20 ARNs (ELB's own limit per call is higher; 20 keeps the
    /// request small).
    public func describeTargetGroups(arns: [String]) async throws -> [TargetGroup] {
        var parameters: [SigningRequest.QueryItem] = []
        for (index, arn) in arns.prefix(20).enumerated() {
            parameters.append(.init("TargetGroupArns.member.\(index + 1)", arn))
        }
        let result = try await client.queryCall(action: "DescribeTargetGroups", parameters: parameters)
        return (result.child("TargetGroups")?.children ?? []).compactMap { member in
            guard let arn = member.string("TargetGroupArn") else { return nil }
            return TargetGroup(
                arn: arn, name: member.string("TargetGroupName"), port: member.string("Port").flatMap { Int($0) },
                targetType: member.string("TargetType"), protocolName: member.string("Protocol"))
        }
    }
}
