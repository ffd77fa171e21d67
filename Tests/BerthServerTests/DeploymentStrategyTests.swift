import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import Foundation
import HTTPTypes
import Testing

/// ECS blue/green, linear and canary deployments, against the fake ECS's service deployments
/// (moto has none of this API).
@Suite("ECS deployment strategies")
struct DeploymentStrategyTests {
    static var balancer: [String: Any] {
        [
            "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/1",
            "containerName": "web", "containerPort": 8080,
            "advancedConfiguration": [
                "alternateTargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/2",
                "productionListenerRule": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/web/1/2/3",
                "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructure",
            ],
        ]
    }

    static func step(_ extra: [String: Any]) -> [String: Any] {
        var properties: [String: Any] = [
            "serviceName": "web", "loadBalancers": [balancer],
            "taskDefinition": ["family": "web", "containerDefinitions": [["name": "web", "image": "shop/web:1"]]],
        ]
        properties.merge(extra) { $1 }
        return ["name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"], "properties": properties]
    }

    static func apply(_ server: TestServer, _ extra: [String: Any]) async throws -> TestServer.Reply {
        try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [step(extra)]])
    }

    static func deploy(_ server: TestServer, version: String, image: String) async throws -> (task: ServerTask, log: [String]) {
        let release = try await server.request(
            .post, "/api/spaces/default/projects/shop/releases", json: ["version": version, "images": ["web": image]])
        #expect(release.status == .created, "\(release.text)")
        return try await DeploymentAPITests.deploy(server, project: "shop", release: version)
    }

    @Test("A blue/green deployment succeeds through ECS's stages, each said in the log with its traffic and bake time")
    func blueGreen() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            let applied = try await Self.apply(server, ["strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1])
            #expect(applied.status == .ok, "\(applied.text)")
            let (task, log) = try await Self.deploy(server, version: "1", image: "shop/web:1")
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.contains { $0.hasPrefix("Waiting for ECS's BLUE_GREEN deployment of web:1 to web to finish") }, "\(log)")
            #expect(log.contains("TEST_TRAFFIC_SHIFT: 100% test traffic, 0% production traffic on web:1"), "\(log)")
            #expect(log.contains("PRODUCTION_TRAFFIC_SHIFT: 100% test traffic, 100% production traffic on web:1"), "\(log)")
            #expect(log.contains("BAKE_TIME: 1 min"), "\(log)")
            #expect(log.contains("Done: ECS's deployment of web:1 is SUCCESSFUL."), "\(log)")
            // What ECS was asked for: the strategy and its bake time, no circuit breaker (rolling only).
            let configuration = ecs.deploymentConfiguration(ofService: "web")
            #expect(configuration["strategy"] as? String == "BLUE_GREEN", "\(configuration)")
            #expect(configuration["bakeTimeInMinutes"] as? Int == 1, "\(configuration)")
            #expect(configuration["deploymentCircuitBreaker"] == nil, "\(configuration)")
            #expect(
                ecs.calls["ListServiceDeployments", default: 0] >= 1 && ecs.calls["DescribeServiceDeployments", default: 0] >= 1)

            // An Update step that sets only alarms keeps the service's strategy, and follows its
            // rollout as a blue/green one.
            let update: [String: Any] = [
                "name": "Update", "type": "update-ecs-service", "targetRoles": ["web"],
                "properties": [
                    "serviceName": "web", "containers": [["name": "web", "image": "shop/web:2"]],
                    "alarms": ["alarmNames": ["web-5xx"], "enable": true, "rollback": true],
                ],
            ]
            #expect(try await server.request(.put, "/api/spaces/default/projects/Patch", json: ["steps": [update]]).status == .ok)
            try await DeploymentAPITests.release(server, project: "Patch", version: "1")
            let (patched, patchLog) = try await DeploymentAPITests.deploy(server, project: "patch", release: "1")
            #expect(patched.state == .succeeded, "\(patched) \(patchLog)")
            #expect(patchLog.contains { $0.hasPrefix("Waiting for ECS's BLUE_GREEN deployment of web:2") }, "\(patchLog)")
            let kept = ecs.deploymentConfiguration(ofService: "web")
            #expect(kept["strategy"] as? String == "BLUE_GREEN" && kept["bakeTimeInMinutes"] as? Int == 1, "\(kept)")
            #expect((kept["alarms"] as? [String: Any])?["alarmNames"] as? [String] == ["web-5xx"], "\(kept)")
        }
    }

    @Test("A canary whose alarm fires in its bake time ends rolled back, naming the alarm; wait untilStage returns at that stage")
    func canaryAlarmAndUntilStage() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            let canary: [String: Any] = [
                "strategy": "CANARY", "canaryConfiguration": ["canaryPercent": 10.0, "canaryBakeTimeInMinutes": 2],
                "alarms": ["alarmNames": ["web-5xx"], "enable": true, "rollback": true],
            ]
            #expect(try await Self.apply(server, canary).status == .ok)
            let good = try await Self.deploy(server, version: "1", image: "shop/web:1")
            #expect(good.task.state == .succeeded, "\(good.log)")
            #expect(
                good.log.contains("PRODUCTION_TRAFFIC_SHIFT: 100% test traffic, 10% production traffic on web:1"), "\(good.log)")
            let bad = try await Self.deploy(server, version: "2", image: "shop/web:alarm")
            #expect(bad.task.state == .rolledBack, "\(bad.task) \(bad.log)")
            #expect(
                bad.task.errorMessage?.contains("alarm web-5xx fired") == true, "\(String(describing: bad.task.errorMessage))")
            #expect(
                bad.task.errorMessage
                    == "Step 'Deploy' on prod: ECS rolled web back from web:2: CloudWatch alarm web-5xx is in ALARM state; alarm web-5xx fired"
            )
            #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
            // The task page's chart: the new revision and the one it was to replace.
            #expect(
                bad.log.contains { $0.hasPrefix("Rollout: web:2 PRIMARY") && $0.contains(" · web:1 ACTIVE 1/1 running") },
                "\(bad.log)")

            var until = canary
            until["wait"] = ["untilStage": "BAKE_TIME"]
            until["bakeTimeInMinutes"] = 600
            #expect(try await Self.apply(server, until).status == .ok)
            let early = try await Self.deploy(server, version: "3", image: "shop/web:3")
            #expect(early.task.state == .succeeded, "\(early.log)")
            #expect(
                early.log.contains("Reached BAKE_TIME (wait untilStage BAKE_TIME); ECS finishes the deployment."), "\(early.log)")
        }
    }

    @Test("Cancelling a deployment with rollbackOnCancel asks ECS to roll back; the service runs the earlier revision")
    func rollbackOnCancel() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            #expect(
                try await Self.apply(server, ["strategy": "BLUE_GREEN", "bakeTimeInMinutes": 600, "rollbackOnCancel": true])
                    .status == .ok)
            // The first release is waited for until its bake time: the service then runs it.
            var first = try await Self.apply(server, ["strategy": "BLUE_GREEN", "wait": ["untilStage": "BAKE_TIME"]])
            #expect(first.status == .ok, "\(first.text)")
            let one = try await Self.deploy(server, version: "1", image: "shop/web:1")
            #expect(one.task.state == .succeeded, "\(one.log)")
            first = try await Self.apply(server, ["strategy": "BLUE_GREEN", "bakeTimeInMinutes": 600, "rollbackOnCancel": true])
            #expect(first.status == .ok)
            let release = try await server.request(
                .post, "/api/spaces/default/projects/shop/releases", json: ["version": "2", "images": ["web": "shop/web:2"]])
            #expect(release.status == .created)
            let queued = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "shop", "release": "2", "environment": "production"])
            let taskID = try #require(queued.json["taskId"] as? String, "\(queued.text)")
            var baking = false
            for _ in 0..<1200 where !baking {
                baking = try await server.server.store.taskLog(taskID: taskID).contains { $0.message == "BAKE_TIME: 600 min" }
                if !baking { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(baking, "the deployment never reached its bake time")
            let cancel = try await server.request(.post, "/api/tasks/\(taskID)/cancel")
            #expect(cancel.status == .ok || cancel.status == .accepted, "\(cancel.text)")
            let task = try await server.finishedTask(taskID)
            #expect(task.state == .cancelled, "\(task)")
            let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
            #expect(
                log.contains { $0.contains("asked ECS to roll back its deployment") && $0.contains("(rollbackOnCancel)") },
                "\(log)")
            #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
        }
    }

    @Test(
        "A PAUSE hook asks a person through Berth: approved, ECS continues and the deployment succeeds; rejected, ECS rolls back")
    func pauseHook() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            let paused: [String: Any] = [
                "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                "lifecycleHooks": [["targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]]],
            ]
            #expect(try await Self.apply(server, paused).status == .ok)
            for (version, verb) in [("1", "approve"), ("2", "reject")] {
                let release = try await server.request(
                    .post, "/api/spaces/default/projects/shop/releases",
                    json: ["version": version, "images": ["web": "shop/web:\(version)"]])
                #expect(release.status == .created, "\(release.text)")
                let queued = try await server.request(
                    .post, "/api/spaces/default/deployments",
                    json: ["project": "shop", "release": version, "environment": "production"])
                let taskID = try #require(queued.json["taskId"] as? String, "\(queued.text)")
                var asked = false
                for _ in 0..<1200 where !asked {
                    asked = try await server.server.store.taskLog(taskID: taskID).contains {
                        $0.message.hasPrefix("ECS waits at the PAUSE hook")
                    }
                    if !asked { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(asked, "the PAUSE hook was never asked about")
                // Nothing is passed on to ECS while the question is open.
                try await Task.sleep(for: .milliseconds(600))
                #expect(try await server.server.store.task(id: taskID)?.state == .executing)
                #expect(ecs.calls["ContinueServiceDeployment", default: 0] == (verb == "approve" ? 0 : 1))
                let answered = try await server.request(
                    .post, "/api/tasks/\(taskID)/\(verb)", json: ["note": "checked the test traffic"])
                #expect(answered.status == .ok, "\(answered.text)")
                let task = try await server.finishedTask(taskID)
                let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
                if verb == "approve" {
                    #expect(task.state == .succeeded, "\(task) \(log)")
                    #expect(
                        log.contains {
                            $0.hasPrefix("Approved by administrator: checked the test traffic; ECS continues the deployment")
                        }, "\(log)")
                    #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
                } else {
                    #expect(task.state == .rolledBack, "\(task) \(log)")
                    #expect(
                        log.contains {
                            $0.hasPrefix(
                                "Rejected by administrator: checked the test traffic; asked ECS to roll the deployment back")
                        },
                        "\(log)")
                    #expect(
                        task.errorMessage?.contains("Rolled back at the lifecycle hook") == true,
                        "\(String(describing: task.errorMessage))")
                    #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
                }
            }
        }
    }

    @Test(
        "Two targets paused at once: an answer must name its question; a cancelled deployment withdraws the questions it asked"
    )
    func severalQuestions() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            let second = try await server.request(
                .post, "/api/spaces/default/targets",
                json: [
                    "name": "prod-2", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                    "clusterName": "prod-2", "account": "keyless",
                ])
            #expect(second.status == .created, "\(second.text)")
            let paused: [String: Any] = [
                "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0,
                "lifecycleHooks": [["targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]]],
            ]
            #expect(try await Self.apply(server, paused).status == .ok)
            let release = try await server.request(
                .post, "/api/spaces/default/projects/shop/releases", json: ["version": "1", "images": ["web": "shop/web:1"]])
            #expect(release.status == .created)
            let queued = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "shop", "release": "1", "environment": "production"])
            let taskID = try #require(queued.json["taskId"] as? String, "\(queued.text)")
            var waiting: [Intervention] = []
            for _ in 0..<1200 where waiting.count < 2 {
                waiting = try await server.server.store.pendingInterventions(taskID: taskID)
                if waiting.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(waiting.count == 2, "\(waiting)")
            #expect(waiting.contains { $0.instructions.contains("on prod-2 (cluster prod-2)") }, "\(waiting)")
            let ambiguous = try await server.request(.post, "/api/tasks/\(taskID)/approve", json: ["note": "yes"])
            #expect(ambiguous.status == .conflict && ambiguous.text.contains("waits on 2 questions"), "\(ambiguous.text)")
            let wrong = try await server.request(.post, "/api/tasks/\(taskID)/approve", json: ["question": "int-made-up"])
            #expect(wrong.status == .conflict, "\(wrong.text)")
            let first = try await server.request(
                .post, "/api/tasks/\(taskID)/approve", json: ["question": waiting[0].id, "note": "first checked"])
            #expect(first.status == .ok, "\(first.text)")
            // The other target still waits; cancelling withdraws its question.
            let cancel = try await server.request(.post, "/api/tasks/\(taskID)/cancel")
            #expect(cancel.status == .ok || cancel.status == .accepted, "\(cancel.text)")
            let task = try await server.finishedTask(taskID)
            #expect(task.state == .cancelled, "\(task)")
            #expect(try await server.server.store.pendingInterventions(taskID: taskID).isEmpty)
            let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
            #expect(
                log.contains {
                    $0.hasPrefix("The question about the PAUSE hook")
                        && $0.hasSuffix("is withdrawn: ECS no longer waits for it here.")
                }, "\(log)")
        }
    }

    @Test("Strategy settings are checked when the process is saved, as ECS checks them")
    func validation() async throws {
        try await DeploymentAPITests.withProductionTarget(ecs: FakeECS()) { server in
            let cases: [([String: Any], String)] = [
                (["strategy": "PURPLE"], "strategy 'PURPLE' is not one of ROLLING, BLUE_GREEN, LINEAR, CANARY"),
                (
                    ["strategy": "ROLLING", "bakeTimeInMinutes": 5],
                    "bakeTimeInMinutes is for the BLUE_GREEN, LINEAR and CANARY strategies"
                ),
                (
                    ["strategy": "LINEAR", "linearConfiguration": ["stepPercent": 2.5]],
                    "stepPercent must be 3.0 to 100.0 in steps of 0.1"
                ),
                (
                    ["strategy": "BLUE_GREEN", "canaryConfiguration": ["canaryPercent": 5.0]],
                    "canaryConfiguration is for strategy CANARY"
                ),
                (
                    [
                        "strategy": "BLUE_GREEN",
                        "lifecycleHooks": [["targetType": "PAUSE", "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"]]],
                    ],
                    "cannot pause at PRODUCTION_TRAFFIC_SHIFT"
                ),
                (
                    [
                        "strategy": "BLUE_GREEN",
                        "lifecycleHooks": [["targetType": "AWS_LAMBDA", "lifecycleStages": ["POST_SCALE_UP"]]],
                    ],
                    "needs hookTargetArn (the function) and roleArn"
                ),
                (
                    ["strategy": "CANARY", "alarms": ["alarmNames": [String](), "enable": true, "rollback": true]],
                    "alarmNames must name at least one"
                ),
                (
                    ["strategy": "ROLLING", "wait": ["untilStage": "BAKE_TIME"]],
                    "untilStage is for the BLUE_GREEN, LINEAR and CANARY strategies"
                ),
                (["strategy": "BLUE_GREEN", "wait": ["untilStage": "SOON"]], "untilStage must be one of RECONCILE_SERVICE"),
                (
                    ["strategy": "BLUE_GREEN", "loadBalancers": [[String: Any]]()],
                    "needs loadBalancers with an advancedConfiguration"
                ),
                (["rollbackOnCancel": "perhaps"], "rollbackOnCancel must be true or false"),
                (["strategy": "CANARY", "alarms": ["alarmNames": ["web-5xx"]]], "alarms needs enable and rollback"),
                (
                    ["strategy": "BLUE_GREEN", "lifecycleHooks": [["targetType": "PAUSE", "lifecycleStages": ["BAKE_TIME"]]]],
                    "lifecycleStages: 'BAKE_TIME' is not one of RECONCILE_SERVICE"
                ),
            ]
            for (properties, message) in cases {
                let reply = try await Self.apply(server, properties)
                #expect(reply.status == .badRequest && reply.text.contains(message), "\(properties): \(reply.text)")
            }
            let pause = try await Self.apply(
                server,
                [
                    "strategy": "LINEAR", "linearConfiguration": ["stepPercent": 25.0, "stepBakeTimeInMinutes": 1],
                    "lifecycleHooks": [["targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]]],
                ])
            #expect(pause.status == .ok, "\(pause.text)")
        }
    }
}
