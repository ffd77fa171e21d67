import AWSCore
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Deployments through the API")
struct DeploymentAPITests {
    @Test("An OIDC account deploys with the deployment subject; wait: false returns once ECS has the change")
    func oidcDeploymentSubject() async throws {
        let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
        let ecs = FakeECS()
        try await withLocalServer(sts.router) { stsURL in
            try await withLocalServer(ecs.router) { ecsURL in
                let environment = [
                    "AWS_ENDPOINT_URL_STS": stsURL, "AWS_ENDPOINT_URL_ECS": ecsURL, "AWS_EC2_METADATA_DISABLED": "true",
                ]
                try await TestServer.with(awsEnvironment: environment) { server in
                    try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
                    let account = try await server.request(
                        .post, "/api/spaces/default/accounts",
                        json: ["type": "aws-oidc", "name": "keyless", "roleArn": "arn:aws:iam::123456789012:role/Deployer"])
                    #expect(account.status == .created, "\(account.text)")
                    try await server.request(
                        .post, "/api/spaces/default/targets",
                        json: [
                            "name": "prod", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                            "clusterName": "prod", "account": "keyless",
                        ])
                    let step: [String: Any] = [
                        "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                        "properties": [
                            "serviceName": "web", "wait": false,
                            "taskDefinition": [
                                "family": "web", "containerDefinitions": [["name": "web", "image": "shop/web:1"]],
                            ],
                        ],
                    ]
                    let applied = try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [step]])
                    #expect(applied.status == .ok, "\(applied.text)")
                    let release = try await server.request(
                        .post, "/api/spaces/default/projects/Shop/releases", json: ["version": "1"])
                    #expect(release.status == .created, "\(release.text)")
                    let deployment = try await server.request(
                        .post, "/api/spaces/default/deployments",
                        json: ["project": "shop", "release": "1", "environment": "production"])
                    #expect(deployment.status == .accepted, "\(deployment.text)")
                    let taskID = try #require(deployment.json["taskId"] as? String)
                    let tasks = try await server.finishedTasks(count: 1)
                    #expect(tasks.first?.state == .succeeded, "\(tasks)")
                    let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
                    #expect(log.contains { $0.contains(#"sub "space:default:project:shop:environment:production""#) })
                    #expect(log.contains("Not waiting for the rollout (wait: false); ECS continues it."))

                    let exchange = try #require(sts.calls.first { $0.action == "AssumeRoleWithWebIdentity" })
                    #expect(!exchange.signed)
                    let token = try #require(exchange.parameters["WebIdentityToken"])
                    var encoded = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
                        .replacingOccurrences(of: "_", with: "/")
                    encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)
                    let payload = try #require(Data(base64Encoded: encoded))
                    let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
                    #expect(claims["sub"] as? String == "space:default:project:shop:environment:production")
                    #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")

                    let fetched = try await server.request(
                        .get, "/api/spaces/default/deployments/\(deployment.json["id"] as? String ?? "")")
                    #expect(fetched.json["state"] as? String == "succeeded")
                }
            }
        }
    }
}
