import AWSCore
import AWSIAM
import AWSSigV4
import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import BerthWorker

/// `verify: true`: the preflight of a service step, against the roles, images, secrets,
/// parameters and target groups that exist in moto (ECS itself is the fake).
@Suite("Preflight (verify) against moto")
struct PreflightTests {
    struct Ignored: Decodable {}

    /// What the checks find in moto: two roles (one trusting ECS tasks, one Lambda), an ECR image
    /// `shop/web:1`, a secret, a parameter and a target group.
    struct Seeded {
        var taskRole: String
        var lambdaRole: String
        var secret: String
        var targetGroup: String
        var image: String
    }

    static func seed(_ moto: MotoServer) async throws -> Seeded {
        func trust(_ service: String) -> String {
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"\#(service)"},"Action":"sts:AssumeRole"}]}"#
        }
        let taskRole = try await moto.createRole(named: "web-task", trustPolicy: trust("ecs-tasks.amazonaws.com"))
        let lambdaRole = try await moto.createRole(named: "web-lambda", trustPolicy: trust("lambda.amazonaws.com"))
        let ecr = try moto.client(for: .ecr)
        let _: Ignored = try await ecr.jsonCall(operation: "CreateRepository", input: ["repositoryName": "shop/web"])
        let manifest =
            #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#
        let _: Ignored = try await ecr.jsonCall(
            operation: "PutImage", input: ["repositoryName": "shop/web", "imageManifest": manifest, "imageTag": "1"])
        struct Created: Decodable { var ARN: String }
        let secret: Created = try await moto.client(for: .secretsManager).jsonCall(
            operation: "CreateSecret", input: ["Name": "shop/db-password", "SecretString": "never-read-by-berth"])
        let _: Ignored = try await moto.client(for: .ssm).jsonCall(
            operation: "PutParameter", input: ["Name": "/shop/api-key", "Value": "never-read-either", "Type": "SecureString"])
        let _: Ignored = try await moto.client(for: .cloudWatchLogs).jsonCall(
            operation: "CreateLogGroup", input: ["logGroupName": "/shop/logs"])
        let group = try await moto.client(for: .elbv2).queryCall(
            action: "CreateTargetGroup", parameters: [.init("Name", "web"), .init("TargetType", "lambda")])
        let targetGroup = try #require(group.child("TargetGroups")?.children.first?.string("TargetGroupArn"), "\(group)")
        return Seeded(
            taskRole: taskRole, lambdaRole: lambdaRole, secret: secret.ARN, targetGroup: targetGroup,
            image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web")
    }

    @Test("verify reports every check and fails before anything changes; with everything in place it passes and deploys")
    func preflight() async throws {
        try await withMoto(authenticated: false) { moto, _ in
            let seeded = try await Self.seed(moto)
            let ecs = FakeECS()
            let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
            try await withLocalServer(sts.router) { stsURL in
                try await withLocalServer(ecs.router) { ecsURL in
                    var environment = ["AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_STS": stsURL]
                    environment["AWS_ENDPOINT_URL_ECS"] = ecsURL
                    for service in ["IAM", "ECR", "SECRETS_MANAGER", "SSM", "ELASTIC_LOAD_BALANCING_V2", "CLOUDWATCH_LOGS"] {
                        environment["AWS_ENDPOINT_URL_\(service)"] = moto.endpoint
                    }
                    try await TestServer.with(awsEnvironment: environment) { server in
                        try await Self.run(server, seeded: seeded, ecs: ecs)
                    }
                }
            }
        }
    }

    static func run(_ server: TestServer, seeded: Seeded, ecs: FakeECS) async throws {
        #expect(
            try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"]).status == .created)
        #expect(
            try await server.request(
                .post, "/api/spaces/default/accounts",
                json: ["type": "aws-oidc", "name": "keyless", "roleArn": "arn:aws:iam::123456789012:role/Deployer"]
            ).status == .created)
        #expect(
            try await server.request(
                .post, "/api/spaces/default/targets",
                json: [
                    "name": "prod", "environments": ["Production"], "roles": ["web"], "region": "us-east-1",
                    "clusterName": "prod",
                    "account": "keyless",
                ]
            ).status == .created)
        func step(executionRole: String, parameter: String, network: Bool, logGroup: String) -> [String: Any] {
            var properties: [String: Any] = [
                "serviceName": "web", "verify": true, "wait": false,
                "loadBalancers": [["targetGroupArn": seeded.targetGroup, "containerName": "app", "containerPort": 8080]],
                "taskDefinition": [
                    "family": "web", "networkMode": "awsvpc", "taskRoleArn": seeded.taskRole, "executionRoleArn": executionRole,
                    "containerDefinitions": [
                        [
                            "name": "app", "image": "\(seeded.image):placeholder", "portMappings": [["containerPort": 8080]],
                            "secrets": [
                                ["name": "DB_PASSWORD", "valueFrom": seeded.secret],
                                ["name": "API_KEY", "valueFrom": parameter],
                            ],
                        ],
                        [
                            "name": "proxy", "image": "nginx:1.27",
                            "logConfiguration": [
                                "logDriver": "awslogs",
                                "options": [
                                    "awslogs-group": logGroup, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "proxy",
                                ],
                            ],
                        ],
                    ],
                ],
            ]
            if network {
                properties["networkConfiguration"] = ["awsvpcConfiguration": ["subnets": ["subnet-1"]]]
            }
            return ["name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"], "properties": properties]
        }
        let wrong = step(executionRole: seeded.lambdaRole, parameter: "/shop/missing", network: false, logGroup: "/shop/nowhere")
        #expect(try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [wrong]]).status == .ok)
        let release = try await server.request(
            .post, "/api/spaces/default/projects/shop/releases", json: ["version": "1", "images": ["app": "\(seeded.image):1"]])
        #expect(release.status == .created, "\(release.text)")
        let (failed, log) = try await DeploymentAPITests.deploy(server, project: "shop", release: "1")
        #expect(failed.state == .failed, "\(failed) \(log)")
        let expected = [
            "Verify ✓ task role \(seeded.taskRole) exists and trusts ecs-tasks.amazonaws.com",
            "Verify ✗ execution role \(seeded.lambdaRole) exists but does not trust ecs-tasks.amazonaws.com (it trusts lambda.amazonaws.com); ECS cannot use it",
            "Verify – image nginx:1.27 (proxy): not in ECR; other registries are not checked",
            "Verify ✓ secret DB_PASSWORD (app) from \(seeded.secret) exists in Secrets Manager",
            "Verify ✗ secret API_KEY (app) from /shop/missing: SSM has no parameter /shop/missing",
            "Verify ✓ target group \(seeded.targetGroup) exists; app serves it on port 8080",
            "Verify ✗ network: an awsvpc task needs networkConfiguration.awsvpcConfiguration.subnets",
            "Verify ✗ log group /shop/nowhere does not exist, and nothing creates it: the tasks would fail to start (set logGroup on the step, or awslogs-create-group)",
        ]
        for line in expected { #expect(log.contains(line), "missing: \(line)\n\(log)") }
        #expect(log.contains { $0.hasPrefix("Verify ✓ image \(seeded.image):1 (app) exists in ECR (sha256:") }, "\(log)")
        #expect(failed.errorMessage?.contains("verify found 4 problems; nothing was changed") == true, "\(failed)")
        #expect(ecs.calls["RegisterTaskDefinition"] == nil && ecs.calls["CreateService"] == nil, "\(ecs.calls)")
        // No secret's value is read, so none can show.
        #expect(!log.joined().contains("never-read"))

        // The same checks as `berth release verify`: a task of its own, no deployment, nothing in ECS.
        let deploymentsBefore = try await server.request(.get, "/api/spaces/default/deployments?limit=100").items.count
        let verify = try await server.request(
            .post, "/api/spaces/default/projects/shop/releases/1/verify", json: ["environment": "Production"])
        #expect(verify.status == .accepted, "\(verify.text)")
        #expect(verify.json["kind"] as? String == "release-verify", "\(verify.text)")
        let verifyID = try #require(verify.json["id"] as? String)
        let verified = try await server.finishedTask(verifyID)
        let verifyLog = try await server.server.store.taskLog(taskID: verifyID).map(\.message)
        #expect(verified.state == .failed, "\(verified) \(verifyLog)")
        for line in expected { #expect(verifyLog.contains(line), "missing: \(line)\n\(verifyLog)") }
        #expect(verifyLog.first?.hasPrefix("Verifying Shop 1 in Production: its ECS service steps on their targets") == true)
        #expect(try await server.request(.get, "/api/spaces/default/deployments?limit=100").items.count == deploymentsBefore)
        #expect(ecs.calls["RegisterTaskDefinition"] == nil && ecs.calls["CreateService"] == nil, "\(ecs.calls)")
        let unknown = try await server.request(
            .post, "/api/spaces/default/projects/shop/releases/1/verify", json: ["environment": "Moon"])
        #expect(unknown.status == .badRequest && unknown.text.contains("there is no environment 'Moon'"), "\(unknown.text)")

        let right = step(executionRole: seeded.taskRole, parameter: "/shop/api-key", network: true, logGroup: "/shop/logs")
        #expect(try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [right]]).status == .ok)
        #expect(
            try await server.request(
                .post, "/api/spaces/default/projects/shop/releases",
                json: ["version": "2", "images": ["app": "\(seeded.image):1"]]
            ).status == .created)
        let (passed, passedLog) = try await DeploymentAPITests.deploy(server, project: "shop", release: "2")
        #expect(passed.state == .succeeded, "\(passed) \(passedLog)")
        #expect(!passedLog.contains { $0.hasPrefix("Verify ✗") }, "\(passedLog)")
        #expect(
            passedLog.contains("Verify ✓ secret API_KEY (app) from /shop/api-key exists in SSM Parameter Store (SecureString)"))
        #expect(passedLog.contains("Verify ✓ log group /shop/logs exists"), "\(passedLog)")
        #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
        let good = try await server.request(
            .post, "/api/spaces/default/projects/shop/releases/2/verify", json: ["environment": "Production"])
        let goodTask = try await server.finishedTask(try #require(good.json["id"] as? String, "\(good.text)"))
        #expect(goodTask.state == .succeeded, "\(goodTask)")
        #expect(ecs.taskDefinitions(family: "web").count == 1, "verify registered nothing")
    }
}

@Suite("Preflight: reading references")
struct PreflightReferenceTests {
    @Test("ECR image references: tag, digest, tag and digest, the default tag; other registries are not ECR")
    func images() throws {
        let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        let tagged = try #require(Preflight.ecrReference("\(host)/shop/web:1.2"))
        #expect(tagged.registry == "123456789012" && tagged.region == "eu-west-1" && tagged.repository == "shop/web")
        #expect(tagged.tag == "1.2" && tagged.digest == nil)
        let both = try #require(Preflight.ecrReference("\(host)/shop/web:1.2@sha256:abc"))
        #expect(both.repository == "shop/web" && both.tag == nil && both.digest == "sha256:abc")
        #expect(try #require(Preflight.ecrReference("\(host)/web")).tag == "latest")
        #expect(Preflight.ecrReference("nginx:1.27") == nil)
        #expect(Preflight.ecrReference("ghcr.io/shop/web:1") == nil)
        #expect(Preflight.ecrReference("public.ecr.aws/shop/web:1") == nil)
    }

    @Test(
        "A role's trust policy: services of Allow statements (one or a list, a statement or a list of them); an unreadable one is an error, not 'trusts nothing'"
    )
    func trustPolicies() throws {
        func role(_ document: String?) -> IAMClient.Role {
            IAMClient.Role(name: "r", arn: "arn:aws:iam::1:role/r", assumeRolePolicyDocument: document)
        }
        #expect(
            try role(
                #"{"Statement":{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","lambda.amazonaws.com"]}}}"#
            ).trustedServices() == ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"])
        #expect(
            try role(
                #"{"Statement":[{"Effect":"Deny","Principal":{"Service":"ecs-tasks.amazonaws.com"}},{"Effect":"Allow","Principal":{"AWS":"*"}}]}"#
            ).trustedServices().isEmpty)
        #expect(throws: AWSClientError.self) { try role("{not json").trustedServices() }
        #expect(throws: AWSClientError.self) { try role(nil).trustedServices() }
        #expect(IAMClient.roleName(of: "arn:aws:iam::123456789012:role/service/web-task") == "web-task")
        #expect(IAMClient.roleName(of: "web-task") == nil)
    }

    @Test("A missing permission is 'could not check', not a finding; another refusal fails the check")
    func refusals() {
        let denied = AWSError(
            code: .accessDeniedException, message: "not authorized", requestID: nil, statusCode: 400, operation: "DescribeImages")
        guard case .skipped(let text) = Preflight.refusal("image x", denied) else {
            Issue.record("AccessDenied failed the check")
            return
        }
        #expect(text.contains("could not check"))
        let missing = AWSError(
            code: "RepositoryNotFoundException", message: "no such repository", requestID: nil, statusCode: 400,
            operation: "DescribeImages")
        #expect(Preflight.refusal("image x", missing) == .failed("image x: RepositoryNotFoundException: no such repository"))
    }
}
