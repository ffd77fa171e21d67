import AWSCore
import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

/// Throttling and other AWS errors while a step waits for ECS, through a real deployment against the fake ECS.
@Suite("AWS errors while waiting")
struct ThrottledRolloutTests {
    typealias API = DeploymentAPITests

    /// Starts a deployment of `release` of `project` to Production; returns its task id.
    static func start(_ server: TestServer, project: String, release: String) async throws -> String {
        let deployment = try await server.request(
            .post, "/api/spaces/default/deployments", json: ["project": project, "release": release, "environment": "production"])
        #expect(deployment.status == .accepted, "\(deployment.text)")
        return try #require(deployment.json["taskId"] as? String, "\(deployment.text)")
    }

    /// Waits until the log of `taskID` has a line that `matches`; fails when none comes in 120 s
    /// (the whole suite, a browser among it, shares two cores).
    static func waitForLine(_ server: TestServer, taskID: String, _ matches: (String) -> Bool) async throws {
        for _ in 0..<2400 {
            if try await server.server.store.taskLog(taskID: taskID).contains(where: { matches($0.message) }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("the log of \(taskID) never had the line waited for")
    }

    /// Waits until `condition` holds; fails naming `what` when it does not within 120 s.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<2400 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("never happened: \(what)")
    }

    static func deployStep(image: String) -> [String: Any] {
        [
            "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
            "properties": [
                "serviceName": "web", "timeoutSeconds": 120,
                "taskDefinition": ["family": "web", "containerDefinitions": [["name": "web", "image": image]]],
            ],
        ]
    }

    @Test(
        "Throttled DescribeServices while watching a rollout keep the step waiting, said once in the log; AccessDenied fails it at once"
    )
    func throttlingKeepsWaiting() async throws {
        // Rollouts end only when the test says so: under load a rollout of a few seconds could end
        // before the failures are injected, and the throttling would then hit the next deployment.
        let ecs = FakeECS(settings: .init(rolloutDuration: .seconds(3600)))
        try await API.withProductionTarget(ecs: ecs) { server in
            try await server.request(
                .put, "/api/spaces/default/projects/Shop", json: ["steps": [Self.deployStep(image: "shop/web:1")]])
            try await API.release(server, project: "Shop", version: "1")
            let throttled = try await Self.start(server, project: "shop", release: "1")
            try await Self.waitForLine(server, taskID: throttled) { $0.hasPrefix("Waiting for web to run web:1") }
            // Six polls in a row fail after the client's three attempts each; before, five failed the step.
            ecs.failNext("DescribeServices", times: 18, with: "ThrottlingException")
            try await Self.waitUntil("ECS has throttled 18 calls") { ecs.throttledCalls == 18 }
            ecs.finishRollouts()
            let task = try await server.finishedTask(throttled)
            let log = try await server.server.store.taskLog(taskID: throttled).map(\.message)
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(ecs.throttledCalls == 18)
            let notices = log.filter { $0.hasPrefix("AWS is throttling Berth's calls: DescribeServices failed: ") }
            #expect(notices.count == 1, "\(log)")
            #expect(notices.first?.contains("ThrottlingException") == true)
            #expect(
                notices.first?.hasSuffix("Berth keeps waiting until the step's own timeout (this is said at most once a minute).")
                    == true)

            try await server.request(
                .put, "/api/spaces/default/projects/Shop", json: ["steps": [Self.deployStep(image: "shop/web:2")]])
            try await API.release(server, project: "Shop", version: "2")
            let denied = try await Self.start(server, project: "shop", release: "2")
            try await Self.waitForLine(server, taskID: denied) { $0.hasPrefix("Waiting for web to run web:2") }
            ecs.failNext("DescribeServices", times: 1, with: "AccessDeniedException")
            let failed = try await server.finishedTask(denied)
            #expect(failed.state == .failed)
            let message = try #require(failed.errorMessage)
            #expect(
                message.hasPrefix(
                    "Step 'Deploy' on prod: ECS could not be polled, and asking again will not help: DescribeServices failed: "),
                "\(message)")
            #expect(message.contains("AccessDeniedException"))
        }
    }

    @Test(
        "Run ECS task: throttled DescribeTasks keep it waiting, a CloudWatch Logs error is said once, and an error that will not go away stops the task"
    )
    func runTaskStopsOnEveryExit() async throws {
        var settings = FakeECS.Settings()
        settings.taskDuration = .seconds(3600)  // tasks end when the test says so
        let ecs = FakeECS(settings: settings)
        try await API.withProductionTarget(ecs: ecs) { server in
            let logging: [String: Any] = [
                "logDriver": "awslogs",
                "options": ["awslogs-group": "/jobs", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"],
            ]
            try await API.applyJobProject(
                server, properties: ["timeoutSeconds": 120], container: ["logConfiguration": logging])
            try await API.release(server, project: "Jobs", version: "1")

            let throttled = try await Self.start(server, project: "jobs", release: "1")
            try await Self.waitForLine(server, taskID: throttled) { $0.hasPrefix("Started ") }
            ecs.failNext("DescribeTasks", times: 9, with: "ThrottlingException")
            ecs.failNext("GetLogEvents", times: 1000, with: "AccessDeniedException")
            try await Self.waitUntil("ECS has throttled 9 calls") { ecs.throttledCalls == 9 }
            ecs.finishRunningTasks()
            let task = try await server.finishedTask(throttled)
            var log = try await server.server.store.taskLog(taskID: throttled).map(\.message)
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.filter { $0.hasPrefix("AWS is throttling Berth's calls: ") }.count == 1, "\(log)")
            let unreadable = log.filter { $0.hasPrefix("Could not read the CloudWatch Logs of job (/jobs, stream ecs/job/") }
            #expect(unreadable.count == 1, "\(log)")
            #expect(unreadable.first?.contains("AccessDeniedException") == true)
            #expect(ecs.stopTaskReasons.isEmpty)

            ecs.failNext("GetLogEvents", times: 0, with: "AccessDeniedException")
            let denied = try await Self.start(server, project: "jobs", release: "1")
            try await Self.waitForLine(server, taskID: denied) { $0.hasPrefix("Started ") }
            ecs.failNext("DescribeTasks", times: 1, with: "AccessDeniedException")
            let failed = try await server.finishedTask(denied)
            log = try await server.server.store.taskLog(taskID: denied).map(\.message)
            #expect(failed.state == .failed, "\(failed)")
            #expect(failed.errorMessage?.contains("AccessDeniedException") == true, "\(failed)")
            let reasons = Array(ecs.stopTaskReasons.values)
            #expect(reasons.count == 1, "\(reasons)")
            #expect(reasons.first?.hasPrefix("The Berth step failed: ") == true, "\(reasons)")
            #expect(log.contains { $0.hasPrefix("Stopped ") && $0.contains("The Berth step failed: ") }, "\(log)")
        }
    }
}
