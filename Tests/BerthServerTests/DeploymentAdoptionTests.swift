import AWSCore
import AWSECS
import AWSSigV4
import BerthDev
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

/// The engine adopting a deployment whose node died at each point of a step: the progress the dead
/// node recorded is written here as it would have been, ECS is left as that node left it, and the
/// test counts what the adopting node asks ECS to do.
@Suite("Adopting a deployment in the middle of a step")
struct DeploymentAdoptionTests {
    /// Where the dead node stopped, as the test sets it up.
    struct Stop {
        var progress: StepProgress
        var ecsCallsBefore: [String: Int]
    }

    /// Deploys release 1 of `project` with this node drained, so that a node "gone" holds the task
    /// (its lease already run out) with the progress `prepare` records; then undrains the node,
    /// which adopts the task. Returns the finished task and its log.
    static func adopt(
        _ server: TestServer, project: String, ecs fake: FakeECS, cancelFirst: Bool = false, deathsBefore: Int = 0,
        prepare: @Sendable (_ ecs: ECSClient, _ key: StepProgress.Key, _ taskID: String) async throws -> StepProgress
    ) async throws -> (task: ServerTask, log: [String], callsBefore: [String: Int]) {
        let store = server.server.store
        let node = server.server.engine.configuration.node.node
        var drained = false
        for _ in 0..<100 where !drained {
            drained = (try? await store.setDraining(node: node, true)) != nil
            if !drained { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(drained, "the node never recorded its heartbeat")
        let deployment = try await server.request(
            .post, "/api/spaces/default/deployments", json: ["project": project, "release": "1", "environment": "production"])
        let taskID = try #require(deployment.json["taskId"] as? String, "\(deployment.text)")
        let gone = TaskOwner(node: "gone")
        let now = Date()
        let claimed = try await store.claimTasks(for: gone, limit: 1, at: now, leaseUntil: now.addingTimeInterval(-1))
        try #require(claimed.map(\.id) == [taskID])
        let key = StepProgress.Key(
            stepIndex: 0,
            targetID: try #require(try await store.allTargets(spaceID: try await store.space("default").id).first?.id))
        let progress = try await withLocalServer(fake.router) { url in
            try await prepare(Self.client(url), key, taskID)
        }
        #expect(try await store.recordStepProgress(progress, at: key, taskID: taskID, owner: gone, time: now))
        let callsBefore = fake.calls
        // Other nodes adopted it and died in turn, their leases run out too.
        for death in 0..<deathsBefore {
            let adopted = try await store.adoptAbandonedTasks(
                by: TaskOwner(node: "gone-\(death)"), limit: 5, at: now, leaseUntil: now.addingTimeInterval(-1)
            ) { _, _ in "adopted by gone-\(death)" }
            try #require(adopted.map(\.fate) == [.adopted])
        }
        if cancelFirst {
            // Someone cancels while the task's node is dead: the request waits for the adopter.
            #expect(try await store.requestCancel(taskID: taskID, at: now) == .requested(node: "gone"))
        }
        _ = try await store.setDraining(node: node, false)
        let task = try await server.finishedTask(taskID)
        return (task, try await store.taskLog(taskID: taskID).map(\.message), callsBefore)
    }

    static func client(_ url: String) throws -> ECSClient {
        ECSClient(
            client: try AWSClient(
                service: .ecs, region: "eu-west-1",
                credentialProvider: StaticCredentialProvider(Credentials(accessKeyID: "AKIATEST", secretAccessKey: "test")),
                environment: ["AWS_ENDPOINT_URL": url]))
    }

    static func project(_ server: TestServer, _ name: String, step: [String: Any]) async throws {
        let saved = try await server.request(.put, "/api/spaces/default/projects/\(name)", json: ["steps": [step]])
        #expect(saved.status == .ok, "\(saved.text)")
        try await DeploymentAPITests.release(server, project: name, version: "1")
    }

    static var deployStep: [String: Any] {
        [
            "name": "Deploy web", "type": "deploy-ecs-service", "targetRoles": ["web"],
            "properties": [
                "serviceName": "web",
                "taskDefinition": ["family": "web", "containerDefinitions": [["name": "app", "image": "shop/web:ok"]]],
            ],
        ]
    }

    /// Registers web:1 and, when `create`, the service web on it (its rollout starts).
    static func registerAndCreate(_ ecs: ECSClient, create: Bool) async throws -> String {
        let registered = try await ecs.registerTaskDefinition(
            ECS.RegisterTaskDefinitionRequest(
                family: "web", containerDefinitions: [ECS.ContainerDefinition(name: "app", image: "shop/web:ok")]))
        let arn = try #require(registered.taskDefinition?.taskDefinitionArn)
        if create {
            _ = try await ecs.createService(
                ECS.CreateServiceRequest(serviceName: "web", cluster: "prod", taskDefinition: arn, desiredCount: 1))
        }
        return arn
    }

    /// What a dead node did in a Run ECS task step: registered migrate:1 and started one task of it
    /// (with `clientToken`, when the node sent one). Returns the progress recording that task.
    static func startMigrateTask(_ ecs: ECSClient, clientToken: String? = nil) async throws -> StepProgress {
        let registered = try await ecs.registerTaskDefinition(
            ECS.RegisterTaskDefinitionRequest(
                family: "migrate",
                containerDefinitions: [ECS.ContainerDefinition(name: "migrate", image: "shop/migrate:1", essential: true)]))
        let started = try await ecs.runTask(
            ECS.RunTaskRequest(
                taskDefinition: try #require(registered.taskDefinition?.taskDefinitionArn), cluster: "prod", count: 1,
                launchType: .fargate, clientToken: clientToken))
        var progress = StepProgress()
        progress.taskARNs = (started.tasks ?? []).compactMap(\.taskArn)
        progress.tasksStartedAt = Date()
        try #require(progress.taskARNs?.count == 1)
        return progress
    }

    /// A fake ECS whose one-off tasks run until stopped.
    static func fakeWithLongTasks() -> FakeECS {
        var settings = FakeECS.Settings()
        settings.taskDuration = .seconds(600)
        return FakeECS(settings: settings)
    }

    static var runTaskStep: [String: Any] {
        [
            "name": "Migrate", "type": "run-ecs-task", "targetRoles": ["web"],
            "properties": ["taskDefinition": "migrate", "launchType": "FARGATE"],
        ]
    }

    @Test("Registered and changed the service: the adopting node watches that rollout and calls nothing that changes ECS")
    func watchesTheRecordedRollout() async throws {
        let fake = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            try await Self.project(server, "Web", step: Self.deployStep)
            let (task, log, before) = try await Self.adopt(server, project: "web", ecs: fake) { ecs, _, _ in
                var progress = StepProgress()
                progress.taskDefinitionARN = try await Self.registerAndCreate(ecs, create: true)
                progress.serviceChangedAt = Date()
                return progress
            }
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.contains { $0.contains("The node gone stopped answering while it ran this task") }, "\(log)")
            #expect(log.contains { $0.contains("was registered before node gone stopped; no new revision") }, "\(log)")
            #expect(log.contains { $0.contains("was already changed to web:1") }, "\(log)")
            #expect(fake.calls["RegisterTaskDefinition"] == before["RegisterTaskDefinition"])
            #expect(fake.calls["CreateService"] == before["CreateService"])
            #expect(fake.calls["UpdateService"] == nil)
            #expect(fake.taskDefinitions(family: "web").count == 1)
        }
    }

    @Test(
        "Registered, and ECS created the service, but the node died before recording it: one UpdateService to the same revision, no new revision"
    )
    func updatesToTheRecordedRevision() async throws {
        let fake = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            try await Self.project(server, "Web", step: Self.deployStep)
            let (task, log, before) = try await Self.adopt(server, project: "web", ecs: fake) { ecs, _, _ in
                var progress = StepProgress()
                progress.taskDefinitionARN = try await Self.registerAndCreate(ecs, create: true)
                return progress
            }
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(fake.calls["RegisterTaskDefinition"] == before["RegisterTaskDefinition"])
            #expect(fake.calls["CreateService"] == before["CreateService"])
            #expect(fake.calls["UpdateService"] == 1)
            #expect(fake.taskDefinitions(family: "web").count == 1)
            #expect(fake.primaryTaskDefinition(ofService: "web") == "web:1")
        }
    }

    @Test("An Update step whose service already runs toward the recorded revision is not forced into a second deployment")
    func updateStepSkipsAnUpdateThatHappened() async throws {
        let fake = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            let step: [String: Any] = [
                "name": "Update web", "type": "update-ecs-service", "targetRoles": ["web"],
                "properties": ["serviceName": "web", "containers": [["name": "app", "image": "shop/web:2"]]],
            ]
            try await Self.project(server, "Web", step: step)
            let (task, log, before) = try await Self.adopt(server, project: "web", ecs: fake) { ecs, _, _ in
                _ = try await Self.registerAndCreate(ecs, create: true)
                // The dead node registered web:2 and updated the service to it, then died.
                let second = try await ecs.registerTaskDefinition(
                    ECS.RegisterTaskDefinitionRequest(
                        family: "web", containerDefinitions: [ECS.ContainerDefinition(name: "app", image: "shop/web:2")]))
                let arn = try #require(second.taskDefinition?.taskDefinitionArn)
                _ = try await ecs.updateService(
                    ECS.UpdateServiceRequest(service: "web", cluster: "prod", taskDefinition: arn, forceNewDeployment: true))
                var progress = StepProgress()
                progress.taskDefinitionARN = arn
                return progress
            }
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.contains { $0.contains("already runs toward web:2") }, "\(log)")
            #expect(fake.calls["UpdateService"] == before["UpdateService"], "a second forced deployment")
            #expect(fake.calls["RegisterTaskDefinition"] == before["RegisterTaskDefinition"])
            #expect(fake.taskDefinitions(family: "web").count == 2)
        }
    }

    @Test("Run ECS task: the tasks the dead node started are waited for; none is started again")
    func runTaskWaitsForTheRecordedTasks() async throws {
        let fake = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            try await Self.project(server, "Jobs", step: Self.runTaskStep)
            let (task, log, before) = try await Self.adopt(server, project: "jobs", ecs: fake) { ecs, _, _ in
                try await Self.startMigrateTask(ecs)
            }
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.contains { $0.contains("started before node gone stopped; waiting for it again") }, "\(log)")
            #expect(fake.calls["RunTask"] == before["RunTask"], "a second task was started")
        }
    }

    @Test(
        "Run ECS task started by a node that died before recording it: the adopting node's RunTask carries the same client token, and ECS answers with the task already started"
    )
    func runTaskIsIdempotent() async throws {
        let fake = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            try await Self.project(server, "Jobs", step: Self.runTaskStep)
            let (task, log, _) = try await Self.adopt(server, project: "jobs", ecs: fake) { ecs, key, taskID in
                // What the dead node sent, token included; ECS started the task, the node died.
                _ = try await Self.startMigrateTask(ecs, clientToken: key.clientToken(taskID: taskID))
                #expect(key.clientToken(taskID: taskID).count == 32)
                #expect(
                    key.clientToken(taskID: taskID)
                        != StepProgress.Key(stepIndex: 1, targetID: key.targetID).clientToken(taskID: taskID))
                return StepProgress()
            }
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(fake.startedTaskCount == 1, "a second task was started")
        }
    }

    @Test(
        "Cancelled while its node was dead: the adopting node cancels the deployment before it does anything, and stops the task the dead node started"
    )
    func cancelledAdoptionStopsRecordedTasks() async throws {
        let fake = Self.fakeWithLongTasks()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            try await Self.project(server, "Jobs", step: Self.runTaskStep)
            let (task, log, before) = try await Self.adopt(server, project: "jobs", ecs: fake, cancelFirst: true) {
                ecs, _, _ in
                try await Self.startMigrateTask(ecs)
            }
            #expect(task.state == .cancelled, "\(task) \(log)")
            let arn = try #require(fake.stopTaskReasons.keys.first, "the task the dead node started was left running: \(log)")
            #expect(fake.stopTaskReasons[arn] == "The Berth deployment was cancelled.")
            #expect(log.contains { $0.contains("which node gone started: the deployment was cancelled") }, "\(log)")
            #expect(fake.calls["RunTask"] == before["RunTask"])
        }
    }

    @Test(
        "A deployment whose node died under it a fourth time is given up: the adopting node fails it without running a step, and stops the task an earlier run started"
    )
    func givenUpDeploymentStopsRecordedTasks() async throws {
        let fake = Self.fakeWithLongTasks()
        try await DeploymentAPITests.withProductionTarget(ecs: fake) { server in
            try await Self.project(server, "Jobs", step: Self.runTaskStep)
            let (task, log, before) = try await Self.adopt(server, project: "jobs", ecs: fake, deathsBefore: 3) { ecs, _, _ in
                try await Self.startMigrateTask(ecs)
            }
            #expect(task.state == .failed, "\(task) \(log)")
            #expect(task.errorMessage == "Its node stopped under it 3 times; it is not run again.", "\(task)")
            #expect(log.contains { $0.contains("for the 4th time. Node") && $0.contains("gives it up") }, "\(log)")
            let arn = try #require(fake.stopTaskReasons.keys.first, "the task an earlier run started was left running: \(log)")
            #expect(fake.stopTaskReasons[arn] == "The Berth deployment failed.")
            #expect(fake.calls["RunTask"] == before["RunTask"])
            #expect(fake.calls["DescribeTasks"] == before["DescribeTasks"], "a step ran")
        }
    }
}
