import AWSCore
import Testing

@Suite("Regions, partitions and endpoints")
struct EndpointTests {
    @Test(
        "each partition has its own DNS suffix",
        arguments: [
            ("us-east-1", AWSServiceDescriptor.ecs, "https://ecs.us-east-1.amazonaws.com", "aws"),
            ("eu-west-2", AWSServiceDescriptor.sts, "https://sts.eu-west-2.amazonaws.com", "aws"),
            ("cn-north-1", AWSServiceDescriptor.ecs, "https://ecs.cn-north-1.amazonaws.com.cn", "aws-cn"),
            ("cn-northwest-1", AWSServiceDescriptor.sts, "https://sts.cn-northwest-1.amazonaws.com.cn", "aws-cn"),
            ("us-gov-west-1", AWSServiceDescriptor.ecs, "https://ecs.us-gov-west-1.amazonaws.com", "aws-us-gov"),
            ("us-gov-east-1", AWSServiceDescriptor.cloudWatchLogs, "https://logs.us-gov-east-1.amazonaws.com", "aws-us-gov"),
            ("ap-southeast-2", AWSServiceDescriptor.iam, "https://iam.amazonaws.com", "aws"),
        ])
    func defaultEndpoints(region: String, service: AWSServiceDescriptor, url: String, partition: String) throws {
        let endpoint = try AWSEndpoint.resolve(service: service, region: region, environment: [:])
        #expect(endpoint.description == url)
        #expect(endpoint.region.partition.id == partition)
        #expect(endpoint.source == "default")
    }

    @Test(
        "IAM is global: its partition's one host, signed for the partition's home region whatever region asks",
        arguments: [
            ("eu-west-1", "https://iam.amazonaws.com", "us-east-1"), ("us-east-1", "https://iam.amazonaws.com", "us-east-1"),
            ("cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
            ("us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
        ])
    func iamSigningRegion(asked: String, url: String, signingRegion: String) throws {
        let endpoint = try AWSEndpoint.resolve(service: .iam, region: asked, environment: [:])
        #expect(endpoint.description == url)
        #expect(endpoint.region.name == signingRegion)
    }

    @Test("AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL")
    func serviceSpecificOverride() throws {
        let environment: EnvironmentVariables = [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
            "AWS_ENDPOINT_URL_ECS": "https://vpce-123.ecs.eu-west-1.vpce.amazonaws.com/",
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "http://localhost:4566/base",
        ]
        let ecs = try AWSEndpoint.resolve(service: .ecs, region: "eu-west-1", environment: environment)
        #expect(ecs.description == "https://vpce-123.ecs.eu-west-1.vpce.amazonaws.com")
        #expect(ecs.source == "AWS_ENDPOINT_URL_ECS")
        let sts = try AWSEndpoint.resolve(service: .sts, region: "eu-west-1", environment: environment)
        #expect(sts.description == "http://127.0.0.1:5000")
        #expect(sts.source == "AWS_ENDPOINT_URL")
        let logs = try AWSEndpoint.resolve(service: .cloudWatchLogs, region: "eu-west-1", environment: environment)
        #expect(logs.description == "http://localhost:4566/base")
    }

    @Test("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns the overrides off")
    func ignoreOverrides() throws {
        let environment: EnvironmentVariables = [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
        ]
        let endpoint = try AWSEndpoint.resolve(service: .ecs, region: "us-west-2", environment: environment)
        #expect(endpoint.description == "https://ecs.us-west-2.amazonaws.com")
    }

    @Test(
        "unknown regions are clear errors",
        arguments: [
            ("us-east-9", "'us-east-9' is not a known region of the aws partition; did you mean 'us-east-1'?"),
            ("eu-wset-1", "'eu-wset-1' is not a known region of the aws partition; did you mean 'eu-west-1'?"),
            ("US-EAST-1", "(region names are lower case: 'us-east-1')"),
            ("", "No AWS region is set."),
            ("mars-1", "'mars-1' is not an AWS region."),
        ])
    func unknownRegion(region: String, message: String) {
        #expect {
            try AWSEndpoint.resolve(service: .ecs, region: region, environment: [:])
        } throws: { error in
            guard let error = error as? AWSClientError else { return false }
            return error.code == .invalidRegion && error.message.contains(message)
        }
    }

    @Test("with an endpoint override, a region of the right shape need not be in Berth's list")
    func unlistedRegionWithOverride() throws {
        let endpoint = try AWSEndpoint.resolve(
            service: .ecs, region: "eu-central-9", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1"])
        #expect(endpoint.region.name == "eu-central-9")
    }

    @Test("a malformed endpoint URL names the variable")
    func malformedOverride() {
        #expect {
            try AWSEndpoint.resolve(service: .ecs, region: "us-east-1", environment: ["AWS_ENDPOINT_URL_ECS": "localhost:5000"])
        } throws: { error in
            (error as? AWSClientError)?.message.contains("AWS_ENDPOINT_URL_ECS is 'localhost:5000'") == true
        }
    }
}

@Suite("URLs in messages")
struct URLRedactionTests {
    @Test(
        "user names, passwords and queries are hidden",
        arguments: [
            ("http://user:hunter2@127.0.0.1:5000/x", "http://***@127.0.0.1:5000/x"),
            ("https://proxy.example/creds?token=abc123", "https://proxy.example/creds?***"),
            ("http://169.254.170.2/v2/credentials/id", "http://169.254.170.2/v2/credentials/id"),
            ("localhost:5000", "localhost:5000"),
        ])
    func redaction(url: String, shown: String) {
        #expect(URLRedaction.redacted(url) == shown)
    }

    @Test("a bad endpoint URL is named without its password")
    func endpointError() {
        #expect {
            try AWSEndpoint.resolve(
                service: .ecs, region: "us-east-1", environment: ["AWS_ENDPOINT_URL": "http://me:hunter2@127.0.0.1/?x=1"])
        } throws: { error in
            guard let error = error as? AWSClientError else { return false }
            return error.code == .invalidEndpoint && !error.message.contains("hunter2")
                && error.message.contains("AWS_ENDPOINT_URL")
        }
    }
}
