import BerthDomain
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

    @Test(
        "Each change through the API leaves exactly one event naming who, the operation and the record; reads and refusals leave none; secrets never appear"
    )
    func everyChangeOneEvent() async throws {
        try await TestServer.with { server in
            let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY-\(UUID().uuidString)"
            let sensitive = "hunter2-\(UUID().uuidString)"
            let changes: [(HTTPRequest.Method, String, [String: Any]?, String)] = [
                (.post, "/api/spaces/default/environments", ["name": "Production"], "createEnvironment"),
                (.patch, "/api/spaces/default/environments/production", ["sortOrder": 3], "updateEnvironment"),
                (
                    .post, "/api/spaces/default/accounts",
                    [
                        "type": "aws-access-key", "name": "prod", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret,
                        "region": "eu-west-1",
                    ], "createAccount"
                ),
                (.put, "/api/spaces/default/projects/web", ["steps": []], "applyProject"),
                (
                    .post, "/api/spaces/default/projects/web/variables",
                    ["name": "Password", "value": sensitive, "type": "sensitive"], "setVariable"
                ),
                (.post, "/api/users", ["username": "dana"], "createUser"),
                (.post, "/api/teams", ["name": "developers"], "createTeam"),
            ]
            for (method, path, body, action) in changes {
                let before = try await Self.events(server).count
                let reply = try await server.request(method, path, json: body)
                #expect(reply.status.code < 300, "\(action): \(reply.text)")
                let after = try await Self.events(server)
                #expect(after.count == before + 1, "\(action) left \(after.count - before) events")
                let event = try #require(after.last)
                #expect(event["action"] as? String == action && event["actor"] as? String == "administrator", "\(event)")
                #expect(event["keyName"] as? String == "administrator" && event["record"] as? String == String(path.dropFirst(4)))
            }
            // Reading, and a refused change, leave nothing.
            let count = try await Self.events(server).count
            _ = try await server.request(.get, "/api/spaces/default/environments")
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
            #expect(try await Self.events(server).count == count)
            // No secret in any event, in the API or in the database.
            let all = try await server.request(.get, "/api/audit?limit=1000").text
            #expect(!all.contains(secret) && !all.contains(sensitive))
            #expect(all.contains("(changed)"))
            let rows = try await server.server.store.auditEvents(.init(limit: 1000))
            #expect(!rows.contains { $0.details.rendered().contains(secret) || $0.details.rendered().contains(sensitive) })
            #expect(try await server.request(.get, "/api/audit/verify").json["intact"] as? Bool == true)
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
