import AWSCore
import AWSECS
import AWSSigV4
import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Health checks in the engine")
struct HealthCheckTests {
    @Test("Checking many targets of one identity assumes the role once and finds them all healthy")
    func credentialsAreSharedPerIdentity() async throws {
        let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
        try await withMoto(authenticated: false) { moto, administrator in
            let ecs = ECSClient(client: try moto.client(for: .ecs, credentials: administrator))
            _ = try await ecs.createCluster(ECS.CreateClusterRequest(clusterName: "shared"))
            try await withLocalServer(sts.router) { stsURL in
                var environment = moto.environment.values
                environment["AWS_ENDPOINT_URL_STS"] = stsURL
                environment["AWS_EC2_METADATA_DISABLED"] = "true"
                try await TestServer.with(awsEnvironment: environment) { server in
                    _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
                    _ = try await server.request(
                        .post, "/api/spaces/default/accounts",
                        json: [
                            "type": "aws-access-key", "name": "ops", "accessKeyId": administrator.accessKeyID,
                            "secretKey": administrator.secretAccessKey,
                        ])
                    for index in 0..<12 {
                        let created = try await server.request(
                            .post, "/api/spaces/default/targets",
                            json: [
                                "name": "svc-\(index)", "environments": ["Production"], "roles": ["web"], "region": "us-east-1",
                                "clusterName": "shared", "account": "ops",
                                "assumeRole": ["roleArn": "arn:aws:iam::123456789012:role/Ops", "externalId": "shared-ext"],
                            ])
                        #expect(created.status == .created)
                    }
                    let queued = try await server.request(.post, "/api/spaces/default/targets/health-checks")
                    #expect(queued.status == .accepted)
                    #expect(queued.items.count == 12)
                    let tasks = try await server.finishedTasks(count: 12)
                    #expect(tasks.map(\.healthStatus) == Array(repeating: .healthy, count: 12))
                    let assumeRoles = sts.calls.filter { $0.action == "AssumeRole" }
                    #expect(assumeRoles.count == 1)
                    #expect(assumeRoles.first?.parameters["ExternalId"] == "shared-ext")
                    #expect(assumeRoles.first?.parameters["RoleSessionName"] == "berth")
                    // The assumed session's secret is masked in every log line it might reach.
                    for task in tasks {
                        for line in try await server.server.store.taskLog(taskID: task.id) {
                            #expect(!line.message.contains("fake-secret-1"))
                            #expect(!line.message.contains(administrator.secretAccessKey))
                        }
                    }
                }
            }
        }
    }

    @Test("Every target is checked again when the interval has passed")
    func schedule() async throws {
        let clock = ManualClock()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("berth-home-\(UUID().uuidString)").path
        try await TestServer.with(
            awsEnvironment: ["AWS_EC2_METADATA_DISABLED": "true", "HOME": home], clock: clock, healthCheckInterval: .seconds(600)
        ) { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Dev"])
            for name in ["a", "b"] {
                _ = try await server.request(
                    .post, "/api/spaces/default/targets",
                    json: [
                        "name": name, "environments": ["Dev"], "roles": ["web"], "region": "eu-west-1", "clusterName": "dev",
                        "useWorkerCredentials": true,
                    ])
            }
            try await clock.waitForSleepers()
            #expect(try await server.server.store.listTasks().isEmpty)
            clock.advance(by: 600)
            let tasks = try await server.finishedTasks(count: 2)
            #expect(tasks.count == 2)
            #expect(tasks.allSatisfy { $0.kind == .healthCheck && $0.healthStatus == .unavailable })
            let target = try await server.server.store.target("a", spaceID: try await server.server.store.space("default").id)
            #expect(target.health.status == .unavailable)
            #expect(target.health.message?.contains("No AWS credentials found") == true)
            try await clock.waitForSleepers()
        }
    }
}
