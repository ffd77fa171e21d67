import BerthDomain
import BerthEngine
import BerthStore
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import BerthServer

/// The audit log tried as someone covering their tracks would: every change leaves one event,
/// no secret is in any, an event edited in the database breaks the chain at that event, and a
/// change whose event cannot be written does not happen.
@Suite("Audit log")
struct AuditTests {
    static func events(_ server: TestServer) async throws -> [[String: Any]] {
        try await server.request(.get, "/api/audit?limit=1000").items.reversed()
    }

    /// Walks every write operation of `openapi.yaml` (the test fails when one is missing): each
    /// leaves exactly one event, by the administrator's key, of its operation, on its record.
    /// Task outcomes (the server's own events, written when a task ends) are left out of the count.
    final class Walk: @unchecked Sendable {
        let server: TestServer
        var covered: Set<String> = []
        var events: [[String: Any]] = []

        init(_ server: TestServer) { self.server = server }

        /// The one event `method path` left; fails the test unless there is exactly one, of `action`.
        @discardableResult
        func change(
            _ action: String, _ method: HTTPRequest.Method, _ path: String, _ body: [String: Any]? = nil,
            key: String?? = .none, record: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> (reply: TestServer.Reply, event: [String: Any]) {
            let before = try await AuditTests.events(server).last?["sequence"] as? Int ?? 0
            let reply = try await server.request(method, path, json: body, key: key)
            #expect(reply.status.code < 300, "\(action): \(reply.text)", sourceLocation: sourceLocation)
            let new = try await AuditTests.events(server).filter {
                ($0["sequence"] as? Int ?? 0) > before && $0["action"] as? String != "finishTask"
            }
            #expect(new.count == 1, "\(action) left \(new.count) events: \(new)", sourceLocation: sourceLocation)
            let event = new.first ?? [:]
            #expect(event["action"] as? String == action, "\(event)", sourceLocation: sourceLocation)
            if key == .none {
                #expect(
                    event["actor"] as? String == "administrator" && event["keyName"] as? String == "administrator",
                    "\(event)", sourceLocation: sourceLocation)
            }
            if let record {
                #expect(
                    (event["record"] as? String)?.hasPrefix(record) == true, "\(action): \(event)",
                    sourceLocation: sourceLocation)
            }
            covered.insert(action)
            events.append(event)
            return (reply, event)
        }
    }

    static func changes(_ event: [String: Any]) -> [String: Any] {
        (event["details"] as? [String: Any])?["changes"] as? [String: Any] ?? [:]
    }

    @Test(
        "Every write operation of openapi.yaml leaves exactly one event naming who, the operation, the record and the fields changed (before and after); secrets only as changed; reads and refusals leave none"
    )
    func everyChangeOneEvent() async throws {
        try await TestServer.with { server in
            let walk = Walk(server)
            let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY-\(UUID().uuidString)"
            let newSecret = "zZalrXUtnFEMI/K7MDENG/bPxRfiCY-\(UUID().uuidString)"
            let sensitive = "hunter2-\(UUID().uuidString)"
            let password = "correct horse battery \(UUID().uuidString)"
            let space = "/api/spaces/default"

            try await walk.change("createSpace", .post, "/api/spaces", ["name": "Platform"], record: "spaces/")
            try await walk.change(
                "createEnvironment", .post, "\(space)/environments", ["name": "Staging"], record: "environments/")
            try await walk.change("createEnvironment", .post, "\(space)/environments", ["name": "Production"])
            let moved = try await walk.change(
                "updateEnvironment", .patch, "\(space)/environments/production", ["sortOrder": 0], record: "environments/")
            let sortOrder = try #require(Self.changes(moved.event)["sortOrder"] as? [String: Any], "\(moved.event)")
            #expect(sortOrder["before"] as? Int == 1 && sortOrder["after"] as? Int == 0, "\(sortOrder)")
            #expect(Self.changes(moved.event)["name"] == nil, "unchanged fields are not listed")

            let account: [String: Any] = [
                "type": "aws-access-key", "name": "prod", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret,
                "region": "eu-west-1",
            ]
            let created = try await walk.change("createAccount", .post, "\(space)/accounts", account, record: "accounts/")
            #expect(Self.changes(created.event)["secretKey"] as? String == "(set)", "\(created.event)")
            let renamed = try await walk.change(
                "updateAccount", .patch, "\(space)/accounts/prod", ["description": "Production", "secretKey": newSecret])
            #expect(Self.changes(renamed.event)["secretKey"] as? String == "(changed)", "\(renamed.event)")
            let description = try #require(Self.changes(renamed.event)["description"] as? [String: Any])
            #expect(description["before"] as? String == "" && description["after"] as? String == "Production")
            try await walk.change("testAccount", .post, "\(space)/accounts/prod/test", record: "accounts/")

            let target: [String: Any] = [
                "name": "web-cluster", "environments": ["Staging"], "roles": ["web"], "account": "prod",
                "region": "eu-west-1", "clusterName": "web",
            ]
            try await walk.change("createTarget", .post, "\(space)/targets", target, record: "targets/")
            let retargeted = try await walk.change(
                "updateTarget", .patch, "\(space)/targets/web-cluster", ["clusterName": "web-2"], record: "targets/")
            let cluster = try #require(Self.changes(retargeted.event)["clusterName"] as? [String: Any])
            #expect(cluster["before"] as? String == "web" && cluster["after"] as? String == "web-2")
            try await walk.change("checkTargetHealth", .post, "\(space)/targets/web-cluster/health-check")
            try await walk.change("checkAllTargetsHealth", .post, "\(space)/targets/health-checks")

            try await walk.change("createWorkerPool", .post, "\(space)/worker-pools", ["name": "fleet"], record: "worker-pools/")
            let token = try await walk.change("createRegistrationToken", .post, "\(space)/worker-pools/fleet/registration-token")
            let registration = try #require(token.reply.json["token"] as? String)
            let registered = try await server.request(
                .post, "/api/worker/register",
                json: ["pool": "fleet", "name": "runner-1", "token": registration, "version": "test"], key: .some(nil))
            #expect(registered.status == .created, "\(registered.text)")
            try await walk.change("revokeRegistrationToken", .delete, "\(space)/worker-pools/fleet/registration-token")
            try await walk.change("deleteWorker", .delete, "\(space)/workers/runner-1", record: "workers/")

            try await walk.change(
                "createLifecycle", .post, "\(space)/lifecycles",
                ["name": "Standard", "phases": [["name": "Test", "environments": ["Staging"]]]], record: "lifecycles/")
            let phases = try await walk.change(
                "updateLifecycle", .put, "\(space)/lifecycles/standard",
                ["name": "Standard", "phases": [["name": "Test", "environments": ["Staging"], "optional": true]]],
                record: "lifecycles/")
            #expect(Self.changes(phases.event)["phases"] != nil, "\(phases.event)")
            let script: [String: Any] = ["name": "Hello", "type": "run-aws-cli-script", "properties": ["script": "echo hi"]]
            try await walk.change(
                "createProject", .post, "\(space)/projects", ["name": "Shop", "steps": [script]], record: "projects/")
            let applied = try await walk.change(
                "applyProject", .put, "\(space)/projects/web",
                ["steps": [script], "variables": [["name": "Token", "value": sensitive, "type": "sensitive"]]],
                record: "projects/")
            let variables = (applied.event["details"] as? [String: Any])?["variables"] as? [String: Any]
            #expect(((variables?["token"] as? [String: Any])?["value"] as? String) == "(set)", "\(applied.event)")
            try await walk.change(
                "setVariable", .post, "\(space)/projects/web/variables",
                ["name": "Password", "value": sensitive, "type": "sensitive"], record: "variables/")
            try await walk.change(
                "createRelease", .post, "\(space)/projects/web/releases", ["version": "1.0.0"], record: "releases/")
            let deployment = try await walk.change(
                "createDeployment", .post, "\(space)/deployments",
                ["project": "web", "release": "1.0.0", "environment": "Staging"])
            let taskID = try #require(deployment.reply.json["taskId"] as? String)
            _ = try await server.finishedTask(taskID)
            let deploymentID = try #require(deployment.reply.json["id"] as? String)
            let again = try await walk.change(
                "redeployDeployment", .post, "\(space)/deployments/\(deploymentID)/redeploy", record: "releases/")
            _ = try await server.finishedTask(try #require(again.reply.json["taskId"] as? String))
            for operation in ["verifyRelease", "diffRelease"] {
                let preview = try await walk.change(
                    operation, .post, "\(space)/projects/web/releases/1.0.0/\(operation == "verifyRelease" ? "verify" : "diff")",
                    ["environment": "Staging"], record: "releases/")
                _ = try await server.finishedTask(try #require(preview.reply.json["id"] as? String))
            }
            // A cancel of a finished task changes nothing, and leaves nothing.
            let unchanged = try await Self.events(server).count
            #expect(try await server.request(.post, "/api/tasks/\(taskID)/cancel").status == .ok)
            #expect(try await Self.events(server).count == unchanged, "a cancel that changed nothing left an event")
            // A manual intervention answered: one event each (approve here, reject in InterventionTests).
            let signOff: [String: Any] = [
                "name": "Sign-off", "type": "manual-intervention", "properties": ["instructions": "Look first."],
            ]
            _ = try await server.request(.put, "\(space)/projects/gated", json: ["steps": [signOff]])
            _ = try await server.request(.post, "\(space)/projects/gated/releases", json: ["version": "1"])
            for action in ["approveTask", "rejectTask"] {
                let gated = try await server.request(
                    .post, "\(space)/deployments", json: ["project": "gated", "release": "1", "environment": "Staging"])
                let gatedID = try #require(gated.json["taskId"] as? String)
                try await InterventionTests.waitForQuestion(server, gatedID)
                let path = action == "approveTask" ? "approve" : "reject"
                try await walk.change(action, .post, "/api/tasks/\(gatedID)/\(path)", ["note": "ok"], record: "tasks/\(gatedID)")
                _ = try await server.finishedTask(gatedID)
            }
            // A running one is cancelled: one event.
            let slow: [String: Any] = ["name": "Wait", "type": "run-aws-cli-script", "properties": ["script": "sleep 60"]]
            _ = try await server.request(.put, "\(space)/projects/slow", json: ["steps": [slow]])
            _ = try await server.request(.post, "\(space)/projects/slow/releases", json: ["version": "1"])
            let running = try await server.request(
                .post, "\(space)/deployments", json: ["project": "slow", "release": "1", "environment": "Staging"])
            let runningID = try #require(running.json["taskId"] as? String)
            try await walk.change("cancelTask", .post, "/api/tasks/\(runningID)/cancel", record: "tasks/\(runningID)")
            _ = try await server.finishedTask(runningID)
            try await walk.change("deleteProject", .delete, "\(space)/projects/shop", record: "projects/")

            let node = try #require(try await server.request(.get, "/api/nodes").items.first?["name"] as? String)
            try await walk.change("drainNode", .post, "/api/nodes/\(node)/drain", record: "nodes/")
            try await walk.change("undrainNode", .post, "/api/nodes/\(node)/undrain", record: "nodes/")

            try await walk.change("createApiKey", .post, "/api/api-keys", ["name": "ci"], record: "api-keys/")
            try await walk.change("revokeApiKey", .delete, "/api/api-keys/ci", record: "api-keys/")
            try await walk.change("createUser", .post, "/api/users", ["username": "dana"], record: "users/")
            let disabled = try await walk.change("updateUser", .patch, "/api/users/dana", ["displayName": "Dana S."])
            #expect((Self.changes(disabled.event)["displayName"] as? [String: Any])?["after"] as? String == "Dana S.")
            let set = try await walk.change("setUserPassword", .put, "/api/users/dana/password", ["password": password])
            #expect(Self.changes(set.event)["password"] as? String == "(changed)", "\(set.event)")
            let link = try await walk.change("createLoginLink", .post, "/api/users/dana/login-link", record: "users/")
            #expect(!"\(link.event)".contains("berthl_"), "the link's token is not in the event")
            let login = try await walk.change(
                "createSession", .post, "/api/sessions", ["username": "dana", "password": password], key: .some(nil))
            #expect(login.event["actor"] == nil || login.event["actor"] is NSNull, "a login has no caller yet")
            try await walk.change("createTeam", .post, "/api/teams", ["name": "developers"], record: "teams/")
            try await walk.change("addTeamMember", .post, "/api/teams/developers/members", ["user": "dana"], record: "teams/")
            let granted = try await walk.change(
                "grantRole", .post, "/api/teams/developers/grants",
                ["role": "Deployer", "space": "default", "environments": ["Staging"]], record: "grants/")
            let grantID = try #require((granted.reply.json["grants"] as? [[String: Any]])?.first?["id"] as? String)
            try await walk.change("revokeGrant", .delete, "/api/teams/developers/grants/\(grantID)", record: "grants/")
            try await walk.change("removeTeamMember", .delete, "/api/teams/developers/members/dana", record: "teams/")
            try await walk.change(
                "createRole", .post, "/api/roles", ["name": "Auditor", "permissions": ["AuditView"]], record: "roles/")
            let rotated = try await walk.change("rotateOidcKey", .post, "/api/oidc/keys/rotate", [String: Any]())
            let keyID = try #require(rotated.reply.json["id"] as? String)
            try await walk.change("revokeOidcKey", .post, "/api/oidc/keys/\(keyID)/revoke", record: "oidc-keys/")
            try await walk.change("deleteTarget", .delete, "\(space)/targets/web-cluster", record: "targets/")
            try await walk.change("deleteAccount", .delete, "\(space)/accounts/prod", record: "accounts/")
            try await walk.change("deleteWorkerPool", .delete, "\(space)/worker-pools/fleet", record: "worker-pools/")
            try await walk.change("deleteEnvironment", .delete, "\(space)/environments/production", record: "environments/")

            // Every write operation of the document was walked.
            let writes = Set(
                try APIDescription.load().operations.filter { [.post, .put, .patch, .delete].contains($0.method) }
                    .map(\.operationID))
            #expect(writes.subtracting(walk.covered).isEmpty, "not walked: \(writes.subtracting(walk.covered).sorted())")

            // Events on a record, by its name or its kind.
            let byName = try await server.request(.get, "/api/audit?record=web-cluster&limit=1000").items
            #expect(
                byName.compactMap { $0["action"] as? String }.sorted() == [
                    "checkTargetHealth", "createTarget", "deleteTarget", "updateTarget",
                ])
            let byKind = try await server.request(.get, "/api/audit?record=environments/&limit=1000").items
            #expect(byKind.count == 4, "\(byKind)")

            // Reading, and a refused change, leave nothing.
            let count = try await Self.events(server).filter { $0["action"] as? String != "finishTask" }.count
            _ = try await server.request(.get, "\(space)/environments")
            _ = try await server.request(.post, "\(space)/environments", json: ["name": "Staging"])
            _ = try await server.request(.post, "\(space)/environments", json: ["name": ""])
            #expect(try await Self.events(server).filter { $0["action"] as? String != "finishTask" }.count == count)
            // No secret in any event, in the API or in the database.
            let all = try await server.request(.get, "/api/audit?limit=1000").text
            for value in [secret, newSecret, sensitive, password, registration] {
                #expect(!all.contains(value), "a secret is in the audit log")
            }
            let rows = try await server.server.store.auditEvents(.init(limit: 1000))
            #expect(
                !rows.contains { row in [secret, newSecret, sensitive, password].contains { row.details.rendered().contains($0) }
                })
            #expect(try await server.request(.get, "/api/audit/verify").json["intact"] as? Bool == true)
        }
    }

    @Test("A task someone queued leaves its outcome as an event, by the server; the schedule's own health checks leave none")
    func taskOutcomes() async throws {
        try await TestServer.with { server in
            let space = "/api/spaces/default"
            _ = try await server.request(.post, "\(space)/environments", json: ["name": "Staging"])
            let script: [String: Any] = ["name": "Fail", "type": "run-aws-cli-script", "properties": ["script": "exit 3"]]
            _ = try await server.request(.put, "\(space)/projects/web", json: ["steps": [script]])
            _ = try await server.request(.post, "\(space)/projects/web/releases", json: ["version": "1"])
            let deployment = try await server.request(
                .post, "\(space)/deployments", json: ["project": "web", "release": "1", "environment": "Staging"])
            let taskID = try #require(deployment.json["taskId"] as? String, "\(deployment.text)")
            #expect(try await server.finishedTask(taskID).state == .failed)
            let finished = try await Self.events(server).filter { $0["action"] as? String == "finishTask" }
            #expect(finished.count == 1, "\(finished)")
            let event = try #require(finished.first)
            #expect(event["record"] as? String == "tasks/\(taskID)" && (event["actor"] == nil || event["actor"] is NSNull))
            let details = event["details"] as? [String: Any] ?? [:]
            #expect(details["state"] as? String == "failed" && details["queuedBy"] as? String == "administrator", "\(event)")
            // A health check queued by the schedule (nobody) is no one's action.
            let target: [String: Any] = [
                "name": "web-cluster", "environments": ["Staging"], "roles": ["web"], "useWorkerCredentials": true,
                "region": "eu-west-1", "clusterName": "web",
            ]
            _ = try await server.request(.post, "\(space)/targets", json: target)
            let targets = try await server.server.store.allTargets(spaceID: try await server.server.store.space("default").id)
            let scheduled = try await server.server.engine.checkHealth(of: targets)
            _ = try await server.finishedTask(try #require(scheduled.first?.id))
            #expect(try await Self.events(server).filter { $0["action"] as? String == "finishTask" }.count == 1)
        }
    }

    @Test("An event edited in the database breaks the chain at that event, and berth audit verify says which")
    func tampering() async throws {
        try await TestServer.with { server in
            for name in ["Development", "Staging", "Production"] {
                _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": name])
            }
            let intact = try await server.request(.get, "/api/audit/verify")
            #expect(intact.json["intact"] as? Bool == true && intact.json["checked"] as? Int == 3, "\(intact.text)")
            // Someone with the database, not the master key, rewrites who did the second change.
            try await server.server.store.database.transaction { db in
                try await db.raw("UPDATE audit_events SET actor = 'someone-else' WHERE sequence = 2").run()
            }
            let broken = try await server.request(.get, "/api/audit/verify")
            #expect(broken.json["intact"] as? Bool == false && broken.json["brokenAt"] as? Int == 2, "\(broken.text)")
            #expect((broken.json["message"] as? String)?.contains("event 2 (createEnvironment") == true, "\(broken.text)")
        }
    }

    @Test("A change whose audit event cannot be written is rolled back: no event, no change")
    func noEventNoChange() async throws {
        try await TestServer.with { server in
            try await server.server.store.database.transaction { db in
                try await db.raw("ALTER TABLE audit_events RENAME TO audit_events_gone").run()
            }
            let refused = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
            #expect(refused.status.code >= 500, "\(refused.text)")
            try await server.server.store.database.transaction { db in
                try await db.raw("ALTER TABLE audit_events_gone RENAME TO audit_events").run()
            }
            let listed = try await server.request(.get, "/api/spaces/default/environments")
            #expect(listed.items.isEmpty, "the environment was created without its event: \(listed.text)")
        }
    }

    @Test("Logins are audited, failed or not, with the username tried and never the password")
    func logins() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/users", json: ["username": "dana"])
            let password = "correct horse battery staple"
            _ = try await server.request(.put, "/api/users/dana/password", json: ["password": password])
            _ = try await server.request(
                .post, "/api/sessions", json: ["username": "dana", "password": "wrong guess"], key: .some(nil))
            _ = try await server.request(
                .post, "/api/sessions", json: ["username": "dana", "password": password], key: .some(nil))
            let events = try await Self.events(server).filter { $0["action"] as? String == "createSession" }
            let outcomes = events.compactMap { ($0["details"] as? [String: Any])?["outcome"] as? String }
            #expect(outcomes == ["failed", "succeeded"], "\(events)")
            #expect(events.allSatisfy { ($0["details"] as? [String: Any])?["username"] as? String == "dana" })
            let text = try await server.request(.get, "/api/audit?limit=1000").text
            #expect(!text.contains(password) && !text.contains("wrong guess"))
        }
    }
}
