import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import Testing

@testable import BerthServer

/// Manual intervention: a deployment waits for a person of the step's teams to approve or reject.
@Suite("Manual intervention")
struct InterventionTests {
    static func waitForQuestion(_ server: TestServer, _ taskID: String) async throws {
        for _ in 0..<1200 {
            let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
            if log.contains(where: { $0.hasPrefix("Waiting for a person to approve or reject") }) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BerthError(.internalError, "the deployment did not ask within 120 s")
    }

    @Test("Approved by a member of the step's team it goes on; rejected it fails; others may not answer; every answer is audited")
    func approveAndReject() async throws {
        try await TestServer.with { server in
            let space = try await server.server.store.space("default")
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
            let steps: [[String: Any]] = [
                [
                    "name": "Sign-off", "type": "manual-intervention",
                    "properties": ["instructions": "Check the dashboards first.", "responsibleTeams": ["release-managers"]],
                ],
                ["name": "Ship", "type": "run-aws-cli-script", "properties": ["script": "echo shipped"]],
            ]
            let rita = try await AccessControlTests.user(
                server, "rita", grants: [AccessGrant(teamID: "", roleID: Role.deployer.id, spaceID: space.id)])
            _ = try await server.request(.post, "/api/teams", json: ["name": "release-managers"])
            _ = try await server.request(.post, "/api/teams/release-managers/members", json: ["user": "rita"])
            let applied = try await server.request(.put, "/api/spaces/default/projects/web", json: ["steps": steps])
            #expect(applied.status == .ok, "\(applied.text)")
            _ = try await server.request(.post, "/api/spaces/default/projects/web/releases", json: ["version": "1"])
            func deploy() async throws -> String {
                let queued = try await server.request(
                    .post, "/api/spaces/default/deployments",
                    json: ["project": "web", "release": "1", "environment": "Production"])
                return try #require(queued.json["taskId"] as? String, "\(queued.text)")
            }

            let first = try await deploy()
            try await Self.waitForQuestion(server, first)
            #expect(try await server.server.store.task(id: first)?.state == .executing)
            // The administrator is not of the team: refused, and the deployment still waits.
            let outsider = try await server.request(.post, "/api/tasks/\(first)/approve", json: ["note": "I say so"])
            #expect(outsider.status == .forbidden && outsider.errorMessage.contains("only members of 'release-managers'"))
            let approved = try await server.request(
                .post, "/api/tasks/\(first)/approve", json: ["note": "dashboards are green"], key: .some(rita))
            #expect(approved.status == .ok, "\(approved.text)")
            let done = try await server.finishedTask(first)
            #expect(done.state == .succeeded, "\(done.errorMessage ?? "")")
            let log = try await server.server.store.taskLog(taskID: first).map(\.message)
            #expect(log.contains("Approved by rita: dashboards are green") && log.contains("shipped"), "\(log)")
            let again = try await server.request(.post, "/api/tasks/\(first)/approve", key: .some(rita))
            #expect(again.status == .conflict, "\(again.text)")
            // A key of Rita's narrowed to Viewer does not answer for her.
            let narrowed = try #require(
                try await server.request(
                    .post, "/api/api-keys", json: ["name": "rita-viewer", "role": "Viewer", "space": "default"], key: .some(rita)
                ).json["key"] as? String)
            let third = try await deploy()
            try await Self.waitForQuestion(server, third)
            let shed = try await server.request(.post, "/api/tasks/\(third)/approve", key: .some(narrowed))
            #expect(shed.status == .forbidden && shed.errorMessage.contains("DeploymentCreate"), "\(shed.text)")
            // Cancelled while it waits: no one answers it after.
            _ = try await server.request(.post, "/api/tasks/\(third)/cancel")
            #expect(try await server.finishedTask(third).state == .cancelled)
            let late = try await server.request(.post, "/api/tasks/\(third)/approve", key: .some(rita))
            #expect(late.status == .conflict && late.errorMessage.contains("waits for no answer"), "\(late.text)")

            let second = try await deploy()
            try await Self.waitForQuestion(server, second)
            let rejected = try await server.request(
                .post, "/api/tasks/\(second)/reject", json: ["note": "error rate is up"], key: .some(rita))
            #expect(rejected.status == .ok, "\(rejected.text)")
            let failed = try await server.finishedTask(second)
            #expect(failed.state == .failed && failed.errorMessage?.contains("rejected by rita: error rate is up") == true)
            #expect(!(try await server.server.store.taskLog(taskID: second).map(\.message).contains("shipped")))

            let answers = try await server.request(.get, "/api/audit?limit=1000").items.filter {
                ["approveTask", "rejectTask"].contains($0["action"] as? String)
            }
            #expect(answers.count == 2 && answers.allSatisfy { $0["actor"] as? String == "rita" }, "\(answers)")
            #expect(answers.contains { ($0["details"] as? [String: Any])?["note"] as? String == "error rate is up" })
        }
    }

    @Test("A manual-intervention step needs instructions and no target roles")
    func validation() async throws {
        try await TestServer.with { server in
            let bad = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: ["steps": [["name": "Sign-off", "type": "manual-intervention", "targetRoles": ["web"]]]])
            #expect(bad.status == .badRequest && bad.errorFields == ["steps[0].targetRoles"], "\(bad.text)")
            let typo = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: [
                    "steps": [
                        [
                            "name": "Sign-off", "type": "manual-intervention",
                            "properties": ["instructions": "x", "responsibleTeams": "ops"],
                        ]
                    ]
                ])
            #expect(typo.status == .badRequest && typo.errorFields == ["steps[0].properties.responsibleTeams"], "\(typo.text)")
            let nobody = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: [
                    "steps": [
                        [
                            "name": "Sign-off", "type": "manual-intervention",
                            "properties": ["instructions": "x", "responsibleTeams": ["ops"]],
                        ]
                    ]
                ])
            #expect(nobody.status == .badRequest && nobody.errorMessage.contains("there is no team 'ops'"), "\(nobody.text)")
            let silent = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["steps": [["name": "Sign-off", "type": "manual-intervention"]]])
            #expect(silent.status == .badRequest && silent.errorFields == ["steps[0].properties.instructions"], "\(silent.text)")
        }
    }
}
