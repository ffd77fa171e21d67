import Foundation

/// What the transport needs to know about an AWS service: how to reach it, sign for it and speak
/// its protocol.
public struct AWSServiceDescriptor: Sendable, Hashable {
    public enum WireProtocol: Sendable, Hashable {
        /// AWS JSON 1.1: `POST /`, `X-Amz-Target: <targetPrefix>.<Operation>`.
        case json11(targetPrefix: String)
        /// AWS Query: form-encoded `Action` and `Version`, XML responses.
        case query(version: String)
    }

    /// The service's name in friendly text, e.g. "Amazon ECS".
    public let displayName: String
    /// The first label of the service's host name: `ecs` in `ecs.us-east-1.amazonaws.com`.
    public let endpointPrefix: String
    /// The service name in the SigV4 credential scope.
    public let signingName: String
    /// The service id as the `AWS_ENDPOINT_URL_<SERVICE>` variable spells it: `ECS`, `CLOUDWATCH_LOGS`.
    public let endpointVariableSuffix: String
    public let wireProtocol: WireProtocol

    public init(
        displayName: String, endpointPrefix: String, signingName: String, endpointVariableSuffix: String,
        wireProtocol: WireProtocol
    ) {
        self.displayName = displayName
        self.endpointPrefix = endpointPrefix
        self.signingName = signingName
        self.endpointVariableSuffix = endpointVariableSuffix
        self.wireProtocol = wireProtocol
    }
}

extension AWSServiceDescriptor {
    public static let sts = AWSServiceDescriptor(
        displayName: "AWS STS", endpointPrefix: "sts", signingName: "sts", endpointVariableSuffix: "STS",
        wireProtocol: .query(version: "2011-06-15"))
    public static let ecs = AWSServiceDescriptor(
        displayName: "Amazon ECS", endpointPrefix: "ecs", signingName: "ecs", endpointVariableSuffix: "ECS",
        wireProtocol: .json11(targetPrefix: "AmazonEC2ContainerServiceV20141113"))
    public static let cloudWatchLogs = AWSServiceDescriptor(
        displayName: "Amazon CloudWatch Logs", endpointPrefix: "logs", signingName: "logs",
        endpointVariableSuffix: "CLOUDWATCH_LOGS", wireProtocol: .json11(targetPrefix: "Logs_20140328"))
    public static let ecr = AWSServiceDescriptor(
        displayName: "Amazon ECR", endpointPrefix: "api.ecr", signingName: "ecr", endpointVariableSuffix: "ECR",
        wireProtocol: .json11(targetPrefix: "AmazonEC2ContainerRegistry_V20150921"))
    public static let secretsManager = AWSServiceDescriptor(
        displayName: "AWS Secrets Manager", endpointPrefix: "secretsmanager", signingName: "secretsmanager",
        endpointVariableSuffix: "SECRETS_MANAGER", wireProtocol: .json11(targetPrefix: "secretsmanager"))
    public static let ssm = AWSServiceDescriptor(
        displayName: "AWS Systems Manager", endpointPrefix: "ssm", signingName: "ssm", endpointVariableSuffix: "SSM",
        wireProtocol: .json11(targetPrefix: "AmazonSSM"))
    public static let elbv2 = AWSServiceDescriptor(
        displayName: "Elastic Load Balancing", endpointPrefix: "elasticloadbalancing", signingName: "elasticloadbalancing",
        endpointVariableSuffix: "ELASTIC_LOAD_BALANCING_V2", wireProtocol: .query(version: "2015-12-01"))
    public static let iam = AWSServiceDescriptor(
        displayName: "AWS IAM", endpointPrefix: "iam", signingName: "iam", endpointVariableSuffix: "IAM",
        wireProtocol: .query(version: "2010-05-08"))
}
