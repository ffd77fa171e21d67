import BerthDomain
import BerthStore
import Foundation
import Testing

@Suite("Store: keyset pages of tasks, releases, deployments and task logs, on SQLite and PostgreSQL")
struct PagingStoreTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    /// Every item, walking pages of two: `list(after)` answers up to three (the third says more follow).
    static func walk<Item>(
        _ id: (Item) -> String, _ list: (String?) async throws -> [Item]
    ) async throws -> [String] {
        var walked: [String] = []
        var after: String?
        while true {
            let items = try await list(after)
            walked += items.prefix(2).map(id)
            guard items.count > 2 else { return walked }
            after = walked.last
        }
    }

    @Test("Pages after a cursor follow the list's own order, ties in time included", arguments: TestDatabase.available)
    func keysetPages(database: TestDatabase) async throws {
        try await database.withStore { store in
            let space = try await store.space("default")
            var environments: [Environment] = []
            for (index, name) in ["Staging", "Production"].enumerated() {
                environments.append(
                    try await store.createEnvironment(
                        Environment(spaceID: space.id, name: name, sortOrder: index, createdAt: now), position: nil))
            }
            var deploymentIDs: [String] = []
            for name in ["Shop", "Admin", "Api"] {
                let project = try await store.createProject(Project(spaceID: space.id, name: name, createdAt: now))
                // Two releases share a creation time: the id breaks the tie.
                for (version, seconds) in [("1", 0.0), ("2", 60.0), ("3", 60.0)] {
                    let release = try await store.createRelease(
                        Release(
                            spaceID: space.id, projectID: project.id, version: version,
                            snapshot: ReleaseSnapshot(steps: [], variables: [], images: [:]),
                            createdAt: now.addingTimeInterval(seconds)))
                    for environment in environments {
                        let task = ServerTask(
                            spaceID: space.id, kind: .deployment, description: "Deploy",
                            createdAt: now.addingTimeInterval(seconds))
                        let deployment = Deployment(
                            spaceID: space.id, projectID: project.id, releaseID: release.id, environmentID: environment.id,
                            taskID: task.id, createdAt: now.addingTimeInterval(seconds))
                        try await store.createDeployment(deployment, task: task)
                        deploymentIDs.append(deployment.id)
                    }
                }
                let all = try await store.releases(projectID: project.id, limit: 1000).map(\.id)
                #expect(all.count == 3)
                #expect(try await Self.walk(\.id) { try await store.releases(projectID: project.id, limit: 3, after: $0) } == all)
            }
            let tasks = try await store.listTasks(limit: 1000).map(\.id)
            #expect(tasks.count == 18)
            #expect(try await Self.walk(\.id) { try await store.listTasks(limit: 3, after: $0) } == tasks)
            for latestOnly in [false, true] {
                let all = try await store.deployments(
                    spaceID: space.id, BerthStore.DeploymentFilter(latestOnly: latestOnly, limit: 1000)
                ).map(\.deployment.id)
                #expect(all.count == (latestOnly ? 6 : 18))
                let walked = try await Self.walk(\.deployment.id) { after in
                    var filter = BerthStore.DeploymentFilter(latestOnly: latestOnly, limit: 3)
                    filter.after = after
                    return try await store.deployments(spaceID: space.id, filter)
                }
                #expect(walked == all, "latestOnly: \(latestOnly)")
            }

            let task = try #require(try await store.task(id: tasks[0]))
            try await store.appendLog(
                taskID: task.id, (1...5).map { TaskLogLine(sequence: $0, time: now, level: .info, message: "line \($0)") })
            let first = try await store.taskLog(taskID: task.id, after: 0, limit: 2)
            #expect(first.lines.map(\.sequence) == [1, 2] && first.hasMore)
            let last = try await store.taskLog(taskID: task.id, after: 3, limit: 2)
            #expect(last.lines.map(\.sequence) == [4, 5] && !last.hasMore)
        }
    }
}
