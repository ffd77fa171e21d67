import BerthDomain
import BerthStore
import Foundation
import Testing

@Suite("Store: projects, variables, releases, deployments and service locks, on SQLite and PostgreSQL")
struct DeploymentStoreTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func step(_ name: String) -> DeploymentStep {
        DeploymentStep(
            name: name, kind: .deployService, targetRoles: ["web"],
            properties: .object([
                ("serviceName", .string("web")),
                ("taskDefinition", .object([("family", .string("web")), ("containerDefinitions", .array([]))])),
            ]))
    }

    @Test(
        "A project's process and variables round-trip; apply replaces them in one go; set replaces by name and scope",
        arguments: TestDatabase.available)
    func projectsAndVariables(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            let project = try await store.createProject(
                Project(spaceID: space.id, name: "Shop", steps: [step("Deploy")], createdAt: now))
            #expect(try await store.project("shop", spaceID: space.id).steps == [step("Deploy")])
            await #expect(throws: BerthError.self) {
                _ = try await store.createProject(Project(spaceID: space.id, name: "SHOP", createdAt: now))
            }
            let production = VariableScope(environmentIDs: ["env-prod"])
            _ = try await store.setVariable(ProjectVariable(projectID: project.id, name: "Replicas", kind: .text, value: "1"))
            _ = try await store.setVariable(
                ProjectVariable(projectID: project.id, name: "Replicas", kind: .text, value: "2", scope: production))
            _ = try await store.setVariable(
                ProjectVariable(projectID: project.id, name: "replicas", kind: .text, value: "3", scope: production))
            let variables = try await store.variables(projectID: project.id)
            #expect(variables.map(\.value) == ["1", "3"])
            #expect(variables.map(\.scope) == [VariableScope(), production])

            var changed = project
            changed.steps = [step("Deploy"), step("Again")]
            _ = try await store.applyProject(
                changed, variables: [ProjectVariable(projectID: project.id, name: "Only", kind: .text, value: "x")])
            #expect(try await store.project(id: project.id)?.steps.map(\.name) == ["Deploy", "Again"])
            #expect(try await store.variables(projectID: project.id).map(\.name) == ["Only"])
            _ = try await store.applyProject(changed, variables: nil)
            #expect(try await store.variables(projectID: project.id).map(\.name) == ["Only"])
        }
    }

    @Test(
        "Releases are unique per version; a service lock is held until released or its task ends",
        arguments: TestDatabase.available)
    func releasesAndLocks(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            let environment = try await store.createEnvironment(
                Environment(spaceID: space.id, name: "Production", sortOrder: 0, createdAt: now), position: nil)
            let project = try await store.createProject(
                Project(spaceID: space.id, name: "Shop", steps: [step("Deploy")], createdAt: now))
            let snapshot = ReleaseSnapshot(steps: project.steps, variables: [], images: ["web": "nginx:1.27"])
            let release = try await store.createRelease(
                Release(spaceID: space.id, projectID: project.id, version: "1.0", snapshot: snapshot, createdAt: now))
            await #expect(throws: BerthError.self) {
                _ = try await store.createRelease(
                    Release(spaceID: space.id, projectID: project.id, version: "1.0", snapshot: snapshot, createdAt: now))
            }
            #expect(try await store.release("1.0", projectID: project.id).snapshot == snapshot)

            func deploy() async throws -> ServerTask {
                let task = ServerTask(spaceID: space.id, kind: .deployment, description: "Deploy", createdAt: now)
                try await store.createDeployment(
                    Deployment(
                        spaceID: space.id, projectID: project.id, releaseID: release.id, environmentID: environment.id,
                        taskID: task.id, createdAt: now), task: task)
                return task
            }
            let first = try await deploy()
            let second = try await deploy()
            #expect(try await store.deployment(taskID: first.id)?.releaseID == release.id)
            #expect(try await store.acquireServiceLock("eu-west-1/prod/web", taskID: first.id, at: now) == nil)
            #expect(try await store.acquireServiceLock("eu-west-1/prod/web", taskID: second.id, at: now) == first.id)
            #expect(try await store.acquireServiceLock("eu-west-1/prod/api", taskID: second.id, at: now) == nil)
            try await store.releaseServiceLock("eu-west-1/prod/web", taskID: first.id)
            #expect(try await store.acquireServiceLock("eu-west-1/prod/web", taskID: second.id, at: now) == nil)
            // A holder that finished without releasing (its node died) is taken over.
            #expect(try await store.startTask(id: second.id, at: now))
            #expect(try await store.finishTask(id: second.id, outcome: TaskOutcome(state: .failed), at: now))
            #expect(try await store.acquireServiceLock("eu-west-1/prod/web", taskID: first.id, at: now) == nil)
            #expect(try await store.cancelQueuedTask(id: first.id, at: now))
            #expect(try await store.task(id: first.id)?.state == .cancelled)
            #expect(try await !store.cancelQueuedTask(id: first.id, at: now))
        }
    }

    @Test(
        "Deployments list newest first with names and task states, by project and environment, or just the latest of each",
        arguments: TestDatabase.available)
    func deploymentListing(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            let staging = try await store.createEnvironment(
                Environment(spaceID: space.id, name: "Staging", sortOrder: 0, createdAt: now), position: nil)
            let production = try await store.createEnvironment(
                Environment(spaceID: space.id, name: "Production", sortOrder: 1, createdAt: now), position: nil)
            var releases: [String: Release] = [:]
            for name in ["Shop", "Admin"] {
                let project = try await store.createProject(
                    Project(spaceID: space.id, name: name, steps: [step("Deploy")], createdAt: now))
                for version in ["1.0", "1.1"] {
                    releases["\(name) \(version)"] = try await store.createRelease(
                        Release(
                            spaceID: space.id, projectID: project.id, version: version,
                            snapshot: ReleaseSnapshot(steps: project.steps, variables: [], images: [:]), createdAt: now))
                }
            }
            var minute = 0.0
            @discardableResult
            func deploy(_ release: String, to environment: Environment, _ state: ServerTask.State) async throws -> Deployment {
                minute += 1
                let at = now.addingTimeInterval(minute * 60)
                let release = try #require(releases[release])
                let task = ServerTask(spaceID: space.id, kind: .deployment, description: "Deploy", createdAt: at)
                let deployment = Deployment(
                    spaceID: space.id, projectID: release.projectID, releaseID: release.id, environmentID: environment.id,
                    taskID: task.id, createdAt: at)
                try await store.createDeployment(deployment, task: task)
                if state.isFinished {
                    #expect(try await store.startTask(id: task.id, at: at))
                    try await store.finishTask(
                        id: task.id, outcome: TaskOutcome(state: state, errorMessage: state == .failed ? "boom" : nil),
                        at: at.addingTimeInterval(30))
                }
                return deployment
            }
            try await deploy("Shop 1.0", to: staging, .succeeded)
            try await deploy("Shop 1.0", to: production, .succeeded)
            try await deploy("Admin 1.0", to: staging, .succeeded)
            try await deploy("Shop 1.1", to: staging, .failed)
            try await deploy("Admin 1.1", to: production, .queued)

            let all = try await store.deployments(spaceID: space.id, .init())
            #expect(
                all.map { "\($0.projectName) \($0.releaseVersion) \($0.environmentName) \($0.state.rawValue)" } == [
                    "Admin 1.1 Production queued", "Shop 1.1 Staging failed", "Admin 1.0 Staging succeeded",
                    "Shop 1.0 Production succeeded", "Shop 1.0 Staging succeeded",
                ])
            #expect(all[1].errorMessage == "boom")
            #expect(all[1].completedAt == now.addingTimeInterval(4 * 60 + 30))
            #expect(all[0].completedAt == nil)

            let latest = try await store.deployments(spaceID: space.id, .init(latestOnly: true))
            #expect(
                latest.map { "\($0.projectName) \($0.releaseVersion) \($0.environmentName)" } == [
                    "Admin 1.0 Staging", "Admin 1.1 Production", "Shop 1.1 Staging", "Shop 1.0 Production",
                ])
            let shop = try await store.project("shop", spaceID: space.id)
            let shopInStaging = try await store.deployments(
                spaceID: space.id, .init(projectID: shop.id, environmentID: staging.id))
            #expect(shopInStaging.map(\.releaseVersion) == ["1.1", "1.0"])
            #expect(try await store.deployments(spaceID: space.id, .init(limit: 2)).count == 2)
        }
    }
}
