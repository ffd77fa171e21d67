import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import Foundation
import HTTPTypes
import Testing

/// `berth release diff`: the task definition and service settings a release would apply, against
/// what runs now, without changing anything.
@Suite("Release diff")
struct ReleaseDiffTests {
    @Test(
        "A diff shows exactly the changed image and environment variable and the new desired count, masks a sensitive value, and changes nothing"
    )
    func diff() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            func apply(count: Int, region: String) async throws {
                let step: [String: Any] = [
                    "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                    "properties": [
                        "serviceName": "web", "desiredCount": count, "wait": false,
                        "taskDefinition": [
                            "family": "web",
                            "containerDefinitions": [
                                [
                                    "name": "web", "image": "shop/web:placeholder", "memory": 256,
                                    "portMappings": [["containerPort": 8080]],
                                    "environment": [
                                        ["name": "REGION", "value": region], ["name": "DB_PASSWORD", "value": "#{DbPassword}"],
                                    ],
                                ]
                            ],
                        ],
                    ],
                ]
                let applied = try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [step]])
                #expect(applied.status == .ok, "\(applied.text)")
            }
            try await apply(count: 1, region: "eu-west-1")
            let secret = "hunter2-\(UUID().uuidString.prefix(8))"
            let variable = try await server.request(
                .post, "/api/spaces/default/projects/shop/variables",
                json: ["name": "DbPassword", "value": secret, "type": "sensitive"])
            #expect(variable.status == .ok || variable.status == .created, "\(variable.text)")
            for (version, image) in [("1", "shop/web:1"), ("2", "shop/web:2")] {
                if version == "2" { try await apply(count: 3, region: "eu-central-1") }
                let release = try await server.request(
                    .post, "/api/spaces/default/projects/shop/releases", json: ["version": version, "images": ["web": image]])
                #expect(release.status == .created, "\(release.text)")
                if version == "1" {
                    let (task, log) = try await DeploymentAPITests.deploy(server, project: "shop", release: "1")
                    #expect(task.state == .succeeded, "\(log)")
                }
            }
            let registered = ecs.taskDefinitions(family: "web").count
            let queued = try await server.request(
                .post, "/api/spaces/default/projects/shop/releases/2/diff", json: ["environment": "Production"])
            #expect(queued.status == .accepted && queued.json["kind"] as? String == "release-diff", "\(queued.text)")
            let taskID = try #require(queued.json["id"] as? String)
            let task = try await server.finishedTask(taskID)
            let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.contains("Task definition: web:1 → web (this release):"), "\(log)")
            #expect(log.contains("--- web:1"), "\(log)")
            #expect(log.contains("+++ web (this release)"), "\(log)")
            let removed = log.filter { $0.hasPrefix("-") && !$0.hasPrefix("---") }
            let added = log.filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }
            #expect(removed.count == 3 && added.count == 3, "removed \(removed), added \(added)")
            #expect(removed.contains { $0.contains(#""image": "shop/web:1""#) }, "\(removed)")
            #expect(added.contains { $0.contains(#""image": "shop/web:2""#) }, "\(added)")
            #expect(removed.contains { $0.contains(#""value": "eu-west-1""#) }, "\(removed)")
            #expect(added.contains { $0.contains(#""value": "eu-central-1""#) }, "\(added)")
            #expect(removed.contains { $0.contains(#""desiredCount": 1"#) }, "\(removed)")
            #expect(added.contains { $0.contains(#""desiredCount": 3"#) }, "\(added)")
            // The sensitive value is in both definitions, unchanged, and masked wherever it shows.
            #expect(!log.joined(separator: "\n").contains(secret), "\(log)")
            #expect(ecs.taskDefinitions(family: "web").count == registered, "a diff registered a revision")
            #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
            #expect(
                try await server.request(.get, "/api/spaces/default/deployments?project=shop&latest=true").items.map {
                    $0["release"] as? String
                } == ["1"])
        }
    }
}
