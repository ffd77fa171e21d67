import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import Testing

@testable import BerthServer

/// Going back: `release: previous` deploys the last release that succeeded in the environment
/// before the one deployed there last; a deployment can be deployed again.
@Suite("Rollback and redeploy")
struct RollbackTests {
    /// Release `version` of `web`, whose script exits with `code`.
    static func release(_ server: TestServer, _ version: String, exits code: Int) async throws {
        let step: [String: Any] = ["name": "Run", "type": "run-aws-cli-script", "properties": ["script": "exit #{Code}"]]
        _ = try await server.request(
            .put, "/api/spaces/default/projects/web",
            json: ["steps": [step], "variables": [["name": "Code", "value": String(code)]]])
        let made = try await server.request(.post, "/api/spaces/default/projects/web/releases", json: ["version": version])
        #expect(made.status == .created, "\(made.text)")
    }

    static func deploy(_ server: TestServer, _ release: String) async throws -> (
        version: String, task: ServerTask, answer: [String: Any]
    ) {
        let queued = try await server.request(
            .post, "/api/spaces/default/deployments", json: ["project": "web", "release": release, "environment": "Staging"])
        #expect(queued.status == .accepted, "\(queued.text)")
        let task = try await server.finishedTask(try #require(queued.json["taskId"] as? String))
        return (try #require(queued.json["release"] as? String), task, queued.json)
    }

    @Test("previous is the last release that succeeded before the one deployed last, whether that failed or not")
    func previous() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
            try await Self.release(server, "1", exits: 0)
            try await Self.release(server, "2", exits: 0)
            try await Self.release(server, "3", exits: 1)
            func previous() async throws -> TestServer.Reply {
                try await server.request(
                    .post, "/api/spaces/default/deployments",
                    json: ["project": "web", "release": "previous", "environment": "Staging"])
            }
            let none = try await previous()
            #expect(none.status == .conflict && none.errorMessage.contains("was never deployed to Staging"), "\(none.text)")
            #expect(try await Self.deploy(server, "1").task.state == .succeeded)
            let onlyOne = try await previous()
            #expect(
                onlyOne.status == .conflict && onlyOne.errorMessage.contains("older than 1 ever succeeded"), "\(onlyOne.text)")
            #expect(try await Self.deploy(server, "2").task.state == .succeeded)
            // 3 failed: previous is the newest older release that succeeded — 2, which runs there.
            #expect(try await Self.deploy(server, "3").task.state == .failed)
            let back = try await Self.deploy(server, "previous")
            #expect(back.version == "2" && back.task.state == .succeeded)
            #expect(
                back.task.description.contains("back to 2, the last release that succeeded here before 3"),
                "\(back.task.description)")
            // Asked again it goes further back, never forward again; below 1 there is nothing.
            #expect(try await Self.deploy(server, "previous").version == "1")
            #expect(try await previous().status == .conflict)
            // 'previous' is a keyword, not a version.
            let named = try await server.request(
                .post, "/api/spaces/default/projects/web/releases", json: ["version": "previous"])
            #expect(named.status == .badRequest && named.errorFields == ["version"], "\(named.text)")
        }
    }

    @Test("A deployment is deployed again: same release, same environment, a new task; a Viewer may not")
    func redeploy() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
            try await Self.release(server, "1", exits: 0)
            let first = try await Self.deploy(server, "1")
            let id = try #require(first.answer["id"] as? String)
            let again = try await server.request(.post, "/api/spaces/default/deployments/\(id)/redeploy")
            #expect(again.status == .accepted, "\(again.text)")
            #expect(again.json["release"] as? String == "1" && again.json["environment"] as? String == "Staging")
            #expect(again.json["id"] as? String != id && again.json["taskId"] as? String != first.task.id)
            let task = try await server.finishedTask(try #require(again.json["taskId"] as? String))
            #expect(task.state == .succeeded && task.description.contains("again, as the deployment \(id)"))
            let viewer = try await AccessControlTests.user(
                server, "vera",
                grants: [
                    AccessGrant(teamID: "", roleID: Role.viewer.id, spaceID: try await server.server.store.space("default").id)
                ])
            let refused = try await server.request(.post, "/api/spaces/default/deployments/\(id)/redeploy", key: .some(viewer))
            #expect(refused.status == .forbidden, "\(refused.text)")
        }
    }
}
