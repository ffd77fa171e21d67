import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import Testing

@testable import BerthServer

/// Lifecycles through the API: a release goes to Production only after Development and Staging.
@Suite("Lifecycles through the API")
struct LifecycleAPITests {
    static func deploy(_ server: TestServer, to environment: String) async throws -> TestServer.Reply {
        try await server.request(
            .post, "/api/spaces/default/deployments", json: ["project": "web", "release": "1", "environment": environment])
    }

    @Test("Production before Staging is refused naming the phase and what is missing; in order it goes through")
    func order() async throws {
        try await TestServer.with { server in
            for name in ["Development", "Staging", "Production", "Sandbox"] {
                _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": name])
            }
            let created = try await server.request(
                .post, "/api/spaces/default/lifecycles",
                json: [
                    "name": "Standard",
                    "phases": [
                        ["name": "Development", "environments": ["Development"], "optional": true],
                        ["name": "Test", "environments": ["Staging"]],
                        ["name": "Production", "environments": ["Production"]],
                    ],
                ])
            #expect(created.status == .created, "\(created.text)")
            let step: [String: Any] = ["name": "Say", "type": "run-aws-cli-script", "properties": ["script": "echo ok"]]
            let applied = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["steps": [step], "lifecycle": "Standard"])
            #expect(applied.json["lifecycle"] as? String == "Standard", "\(applied.text)")
            _ = try await server.request(.post, "/api/spaces/default/projects/web/releases", json: ["version": "1"])
            var release = try await server.request(.get, "/api/spaces/default/projects/web/releases/1").json
            #expect(release["mayGoTo"] as? [String] == ["Development", "Staging"], "\(release)")

            let early = try await Self.deploy(server, to: "Production")
            #expect(early.status == .conflict, "\(early.text)")
            #expect(
                early.errorMessage.contains(
                    "cannot go to Production yet: the phase 'Test' of the lifecycle 'Standard' needs 1 more successful deployment of it first (still missing: Staging)"
                ), "\(early.errorMessage)")
            let outside = try await Self.deploy(server, to: "Sandbox")
            #expect(outside.status == .conflict && outside.errorMessage.contains("has no phase with Sandbox"), "\(outside.text)")
            // Development is optional: Staging may come first.
            let staging = try await Self.deploy(server, to: "Staging")
            #expect(staging.status == .accepted, "\(staging.text)")
            #expect(try await server.finishedTask(try #require(staging.json["taskId"] as? String)).state == .succeeded)
            release = try await server.request(.get, "/api/spaces/default/projects/web/releases/1").json
            #expect(release["mayGoTo"] as? [String] == ["Development", "Staging", "Production"], "\(release)")
            let production = try await Self.deploy(server, to: "Production")
            #expect(production.status == .accepted, "\(production.text)")
            _ = try await server.finishedTask(try #require(production.json["taskId"] as? String))
            // An environment of a phase stays while the lifecycle names it.
            let kept = try await server.request(.delete, "/api/spaces/default/environments/development")
            #expect(kept.status == .conflict && kept.errorMessage.contains("lifecycle 'Standard'"), "\(kept.text)")
            // Without a lifecycle, anywhere again.
            _ = try await server.request(.put, "/api/spaces/default/projects/web", json: ["steps": [step], "lifecycle": ""])
            #expect(try await Self.deploy(server, to: "Sandbox").status == .accepted)
        }
    }

    @Test("A lifecycle's mistakes are named at their field; an unknown lifecycle in a project is too")
    func badInput() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
            let unknown = try await server.request(
                .post, "/api/spaces/default/lifecycles",
                json: ["name": "Broken", "phases": [["name": "Test", "environments": ["Staging", "Nowhere"]]]])
            #expect(unknown.status == .badRequest && unknown.errorFields == ["phases[0].environments"], "\(unknown.text)")
            let twice = try await server.request(
                .post, "/api/spaces/default/lifecycles",
                json: [
                    "name": "Twice",
                    "phases": [
                        ["name": "A", "environments": ["Staging"]],
                        ["name": "B", "environments": ["Staging"], "minimumEnvironments": 2],
                    ],
                ])
            #expect(
                twice.status == .badRequest
                    && twice.errorFields.sorted() == ["phases[1].environments", "phases[1].minimumEnvironments"],
                "\(twice.text)")
            let project = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["steps": [[String: Any]](), "lifecycle": "Nope"])
            #expect(project.status == .badRequest && project.errorFields == ["lifecycle"], "\(project.text)")
        }
    }
}

@Suite("Step conditions on environments")
struct StepConditionTests {
    @Test("A step for Production only is skipped in Staging, with the log saying so; one excluded from Staging too")
    func conditions() async throws {
        try await TestServer.with { server in
            for name in ["Staging", "Production"] {
                _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": name])
            }
            func step(_ name: String, _ extra: [String: Any]) -> [String: Any] {
                ["name": name, "type": "run-aws-cli-script", "properties": ["script": "echo ran \(name)"]].merging(extra) { $1 }
            }
            let applied = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: [
                    "steps": [
                        step("Approve", ["environments": ["Production"]]), step("Smoke", ["excludeEnvironments": ["Staging"]]),
                        step("Always", [:]),
                    ]
                ])
            #expect(applied.status == .ok, "\(applied.text)")
            let steps = applied.json["steps"] as? [[String: Any]] ?? []
            #expect(steps.first?["environments"] as? [String] == ["Production"], "\(steps)")
            _ = try await server.request(.post, "/api/spaces/default/projects/web/releases", json: ["version": "1"])
            let queued = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "web", "release": "1", "environment": "Staging"])
            let task = try await server.finishedTask(try #require(queued.json["taskId"] as? String))
            #expect(task.state == .succeeded)
            let log = try await server.server.store.taskLog(taskID: task.id).map(\.message).joined(separator: "\n")
            #expect(log.contains("Step 1: Approve (run-aws-cli-script) is skipped: it runs only in Production."), "\(log)")
            #expect(log.contains("Step 2: Smoke (run-aws-cli-script) is skipped: it is skipped in Staging."), "\(log)")
            #expect(log.contains("ran Always") && !log.contains("ran Approve") && !log.contains("ran Smoke"), "\(log)")
            // Conditions hold environments by id: renamed, Production keeps its step, Staging stays excluded.
            _ = try await server.request(.patch, "/api/spaces/default/environments/production", json: ["name": "Live"])
            _ = try await server.request(.patch, "/api/spaces/default/environments/staging", json: ["name": "Stage"])
            let renamed = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "web", "release": "1", "environment": "Stage"])
            let again = try await server.finishedTask(try #require(renamed.json["taskId"] as? String))
            let after = try await server.server.store.taskLog(taskID: again.id).map(\.message).joined(separator: "\n")
            #expect(after.contains("is skipped: it runs only in Live.") && !after.contains("ran Smoke"), "\(after)")
            let shown = try await server.request(.get, "/api/spaces/default/projects/web").json["steps"] as? [[String: Any]]
            #expect(shown?.first?["environments"] as? [String] == ["Live"], "\(shown ?? [])")
            // An environment the space does not have, or both lists: named at their field.
            let unknown = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["steps": [step("Approve", ["environments": ["Prod"]])]])
            #expect(unknown.status == .badRequest && unknown.errorFields == ["steps[0].environments"], "\(unknown.text)")
            let both = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: ["steps": [step("Approve", ["environments": ["Production"], "excludeEnvironments": ["Staging"]])]])
            #expect(both.status == .badRequest && both.errorFields.contains("steps[0].excludeEnvironments"), "\(both.text)")
        }
    }
}
