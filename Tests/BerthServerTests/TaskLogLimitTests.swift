import BerthDomain
import BerthServer
import BerthStore
import Foundation
import HTTPTypes
import Logging
import Testing

@testable import BerthEngine

@Suite("Task logs: pages, long lines, the line limit")
struct TaskLogLimitTests {
    /// A finished task of the default space with `count` stored lines.
    static func taskWithLines(_ server: TestServer, count: Int) async throws -> String {
        let space = try await server.server.store.space("default")
        let task = ServerTask(
            spaceID: space.id, kind: .accountTest, description: "log paging", state: .succeeded, createdAt: Date())
        try await server.server.store.createTasks([task])
        for start in stride(from: 1, through: count, by: 500) {
            let lines = (start..<min(start + 500, count + 1)).map {
                TaskLogLine(sequence: $0, time: Date(), level: .info, message: "line \($0)")
            }
            try await server.server.store.appendLog(taskID: task.id, lines)
        }
        return task.id
    }

    @Test("GET /tasks/{id}/log pages: 1,000 lines by default, at most 10,000, and says whether more follow")
    func pages() async throws {
        try await TestServer.with { server in
            let id = try await Self.taskWithLines(server, count: 2500)
            let first = try await server.request(.get, "/api/tasks/\(id)/log")
            let firstLines = try #require(first.json["lines"] as? [[String: Any]])
            #expect(firstLines.count == 1000)
            #expect(firstLines.last?["sequence"] as? Int == 1000)
            #expect(first.json["hasMore"] as? Bool == true)
            let rest = try await server.request(.get, "/api/tasks/\(id)/log?after=1000&limit=10000")
            #expect((rest.json["lines"] as? [[String: Any]])?.count == 1500)
            #expect(rest.json["hasMore"] as? Bool == false)
            let exact = try await server.request(.get, "/api/tasks/\(id)/log?after=2000&limit=500")
            #expect(exact.json["hasMore"] as? Bool == false)
            let tooMany = try await server.request(.get, "/api/tasks/\(id)/log?limit=10001")
            #expect(tooMany.status == .badRequest)
            #expect(tooMany.errorMessage.contains("limit: must be at most 10000 (got 10001)"))
        }
    }

    @Test("A line over 16 KiB is cut with a marker after masking; a log over its limit ends saying what was dropped")
    func longLinesAndTheLineLimit() async throws {
        try await TestServer.with { server in
            let store = server.server.store
            let id = try await Self.taskWithLines(server, count: 0)
            let sink = LogSink(store: store, logger: Logger(label: "test"))
            let writer = TaskLogWriter(taskID: id, sink: sink, lineLimit: 100, clock: { Date() })
            let secret = "s3cr3t-value-that-must-not-leak"
            await writer.addSensitive([secret])
            // The secret straddles the 16 KiB boundary: masked first, it cannot leave a piece behind.
            let long = String(repeating: "x", count: 16 * 1024 - 10) + secret + String(repeating: "é", count: 20_000)
            await writer.info(long)
            for index in 2...150 { await writer.write(index % 50 == 0 ? .error : .info, "line \(index)") }
            let notice = try #require(await writer.droppedLinesNotice())
            await sink.flush()
            try await store.appendLog(taskID: id, [notice])
            let lines = try await store.taskLog(taskID: id)
            #expect(lines.count == 101)
            let first = try #require(lines.first?.message)
            #expect(first.utf8.count < 16 * 1024 + 100)
            #expect(!first.contains("s3cr3t"))
            #expect(first.hasPrefix(String(repeating: "x", count: 16 * 1024 - 10)))
            #expect(first.contains(" … [line cut: ") && first.hasSuffix(" bytes not shown]"))
            #expect(lines[99].message == "line 100")
            #expect(
                lines.last?.message
                    == "The log reached its limit of 100 lines (--max-task-log-lines): 50 later lines were dropped, 1 of them warnings or errors."
            )
            #expect(lines.last?.sequence == 101)
        }
    }
}

@Suite("Every list endpoint pages with limit and after")
struct ListPagingTests {
    @Test("Walking any list two at a time gives every item once, in the list's order")
    func everyListPages() async throws {
        try await TestServer.with { server in
            let space = "/api/spaces/default"
            for index in 1...3 {
                try await server.request(.post, "/api/spaces", json: ["name": "Space \(index)"])
                try await server.request(.post, "\(space)/environments", json: ["name": "Env \(index)"])
                try await server.request(.post, "\(space)/worker-pools", json: ["name": "Pool \(index)"])
                try await server.request(.post, "/api/api-keys", json: ["name": "key \(index)"])
                try await server.request(.post, "\(space)/projects", json: ["name": "Project \(index)"])
                try await server.request(
                    .post, "\(space)/projects/Project%201/variables", json: ["name": "V\(index)", "value": "x"])
                try await server.request(
                    .post, "\(space)/accounts",
                    json: [
                        "type": "aws-access-key", "name": "Account \(index)", "accessKeyId": "AKIAIOSFODNN7EXAMPL\(index)",
                        "secretKey": "secret-\(index)",
                    ])
                try await server.request(.post, "\(space)/accounts/Account%20\(index)/test")
                try await server.request(.post, "/api/oidc/keys/rotate", json: ["activateAfterSeconds": 0])
            }
            for path in [
                "/api/spaces", "\(space)/environments", "\(space)/worker-pools", "/api/api-keys", "\(space)/projects",
                "\(space)/projects/Project%201/variables", "\(space)/accounts", "/api/tasks", "/api/oidc/keys",
            ] {
                let all = try await server.request(.get, "\(path)?limit=1000").items.compactMap { $0["id"] as? String }
                #expect(all.count >= 3, "\(path)")
                var walked: [String] = []
                var cursor: String?
                repeat {
                    let query = "limit=2" + (cursor.map { "&after=\($0)" } ?? "")
                    let page = try await server.request(.get, "\(path)?\(query)")
                    #expect(page.status == .ok, "\(path): \(page.text)")
                    #expect(page.items.count <= 2)
                    walked += page.items.compactMap { $0["id"] as? String }
                    cursor = page.json["nextCursor"] as? String
                } while cursor != nil && walked.count <= all.count
                #expect(walked == all, "\(path)")
            }
            // Releases and deployments page in SQL, newest first; latest=true by project and environment.
            let step: [String: Any] = ["name": "Say", "type": "run-aws-cli-script", "properties": ["script": "echo hi"]]
            for project in ["Alpha", "Beta"] {
                #expect(try await server.request(.put, "\(space)/projects/\(project)", json: ["steps": [step]]).status == .ok)
                for version in 1...3 {
                    try await DeploymentAPITests.release(server, project: project, version: "\(version)")
                    for environment in ["Env 1", "Env 2"] {
                        let deployment = try await server.request(
                            .post, "\(space)/deployments",
                            json: ["project": project, "release": "\(version)", "environment": environment])
                        #expect(deployment.status == .accepted, "\(deployment.text)")
                    }
                }
            }
            for path in [
                "\(space)/projects/Alpha/releases", "\(space)/deployments", "\(space)/deployments?latest=true",
                "\(space)/deployments?project=Beta",
            ] {
                let separator = path.contains("?") ? "&" : "?"
                let all = try await server.request(.get, "\(path)\(separator)limit=1000").items.compactMap { $0["id"] as? String }
                #expect(all.count >= 3, "\(path)")
                var walked: [String] = []
                var cursor: String?
                repeat {
                    let page = try await server.request(
                        .get, "\(path)\(separator)limit=2" + (cursor.map { "&after=\($0)" } ?? ""))
                    #expect(page.status == .ok, "\(path): \(page.text)")
                    walked += page.items.compactMap { $0["id"] as? String }
                    cursor = page.json["nextCursor"] as? String
                } while cursor != nil && walked.count <= all.count
                #expect(walked == all, "\(path)")
            }
            let unknown = try await server.request(.get, "\(space)/environments?after=env-gone")
            #expect(unknown.errorFields == ["after"])
        }
    }
}
