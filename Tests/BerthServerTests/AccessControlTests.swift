import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import HTTPTypes
import Testing

@testable import BerthServer

/// Who may call what: every route tried by callers holding nothing, and by a Deployer limited to
/// one environment.
@Suite("Access control")
struct AccessControlTests {
    /// A user named `name` with a key of their own, in a team holding `grants`; returns the key.
    static func user(_ server: TestServer, _ name: String, grants: [AccessGrant] = []) async throws -> String {
        let store = server.server.store
        let user = try await store.createUser(User(username: name, displayName: name.capitalized, createdAt: Date()))
        if !grants.isEmpty {
            let team = try await store.createTeam(Team(name: "\(name) team", createdAt: Date()))
            try await store.addTeamMember(teamID: team.id, userID: user.id)
            for grant in grants {
                var grant = grant
                grant.teamID = team.id
                try await store.grant(grant, at: Date())
            }
        }
        var (key, record) = APIKeyFactory.make(name: "\(name)-key", at: Date())
        record.userID = user.id
        _ = try await store.createAPIKey(record)
        return key
    }

    @Test("Every operation of openapi.yaml has an access rule, and every rule an operation")
    func everyOperationHasARule() throws {
        let operations = Set(try APIDescription.load().operations.map(\.operationID))
        #expect(operations.count > 50)
        #expect(operations == Set(AccessRequirement.byOperation.keys))
    }

    @Test(
        "A caller whose teams hold nothing gets 403 from every route, before its input is even read — except the routes that show only what is the caller's own"
    )
    func noPermissionAnywhere() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
            _ = try await server.request(.post, "/api/spaces/default/projects", json: ["name": "web"])
            let nobody = try await Self.user(server, "nobody")
            for operation in try APIDescription.load().operations {
                let path =
                    "/api/"
                    + operation.segments.map { segment in
                        guard APIDescription.Operation.isParameter(segment) else { return segment }
                        return ["{space}": "default", "{project}": "web", "{environment}": "production"][segment] ?? "x"
                    }.joined(separator: "/")
                let reply = try await server.request(
                    operation.method, path, text: operation.body == nil ? nil : "{}", key: .some(nobody))
                let name = "\(operation.operationID) \(operation.method) \(path)"
                switch AccessRequirement.byOperation[operation.operationID] {
                case .caller, .anonymous:
                    #expect(reply.status != .forbidden, "\(name): \(reply.text)")
                default:
                    #expect(reply.status == .forbidden, "\(name): \(reply.text)")
                    #expect(reply.json["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "forbidden", "\(name)")
                    #expect(reply.errorMessage.contains("The user 'nobody' (key 'nobody-key') may not do this"), "\(name)")
                }
            }
            // What the caller's own routes show: nothing of anyone else.
            #expect(try await server.request(.get, "/api/spaces", key: .some(nobody)).items.isEmpty)
            #expect(try await server.request(.get, "/api/tasks", key: .some(nobody)).items.isEmpty)
            let keys = try await server.request(.get, "/api/api-keys", key: .some(nobody)).items
            #expect(keys.compactMap { $0["name"] as? String } == ["nobody-key"], "\(keys)")
            // Another user's key is not theirs to revoke: the administrator's survives.
            let revoke = try await server.request(.delete, "/api/api-keys/administrator", key: .some(nobody))
            #expect(revoke.status == .forbidden, "\(revoke.text)")
            #expect(revoke.errorMessage.contains("ApiKeyManage"), "\(revoke.text)")
            #expect(try await server.request(.get, "/api/spaces").status == .ok)
        }
    }

    @Test(
        "A Deployer limited to Development deploys there (202) and not to Production (403), sees the space, and changes nothing else"
    )
    func deployerLimitedToDevelopment() async throws {
        try await TestServer.with { server in
            for name in ["Development", "Production"] {
                #expect(
                    try await server.request(.post, "/api/spaces/default/environments", json: ["name": name]).status
                        == .created)
            }
            let created = try await server.request(
                .post, "/api/spaces/default/projects",
                json: [
                    "name": "web",
                    "steps": [
                        [
                            "name": "Hello", "type": "run-aws-cli-script",
                            "properties": ["script": "echo hello"],
                        ]
                    ],
                ])
            #expect(created.status == .created, "\(created.text)")
            #expect(
                try await server.request(.post, "/api/spaces/default/projects/web/releases", json: ["version": "1"]).status
                    == .created)
            let store = server.server.store
            let space = try await store.space("default")
            let development = try await store.environment("development", spaceID: space.id)
            let deployer = try await Self.user(
                server, "dev",
                grants: [
                    AccessGrant(
                        teamID: "", roleID: Role.deployer.id, spaceID: space.id, environmentIDs: [development.id])
                ])
            let production = try await server.request(
                .post, "/api/spaces/default/deployments",
                json: ["project": "web", "release": "1", "environment": "Production"], key: .some(deployer))
            #expect(production.status == .forbidden, "\(production.text)")
            #expect(production.errorMessage.contains("needs DeploymentCreate for Production"), "\(production.text)")
            let allowed = try await server.request(
                .post, "/api/spaces/default/deployments",
                json: ["project": "web", "release": "1", "environment": "Development"], key: .some(deployer))
            #expect(allowed.status == .accepted, "\(allowed.text)")
            // The space and its tasks are theirs to see; its accounts, its projects' scripts and its
            // environments are not theirs to change.
            #expect(try await server.request(.get, "/api/spaces", key: .some(deployer)).items.count == 1)
            let task = try #require(allowed.json["taskId"] as? String)
            #expect(try await server.request(.get, "/api/tasks/\(task)", key: .some(deployer)).status == .ok)
            #expect(
                try await server.request(
                    .post, "/api/spaces/default/environments", json: ["name": "Test"], key: .some(deployer)
                ).status == .forbidden)
            let script = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: ["steps": [["name": "Evil", "type": "run-aws-cli-script", "properties": ["script": "env"]]]],
                key: .some(deployer))
            #expect(script.status == .forbidden, "\(script.text)")
        }
    }

    @Test("Changing a project's script steps needs ScriptStepEdit; the rest of the project needs ProjectEdit only")
    func scriptStepsNeedTheirOwnPermission() async throws {
        try await TestServer.with { server in
            let store = server.server.store
            let space = try await store.space("default")
            let script = ["name": "Hello", "type": "run-aws-cli-script", "properties": ["script": "echo hello"]] as [String: Any]
            #expect(
                try await server.request(.put, "/api/spaces/default/projects/web", json: ["steps": [script]]).status == .ok)
            // A custom role: project editing without scripts.
            let editor = Role(
                id: "role-editor", name: "Editor", description: "", permissions: [.spaceView, .projectView, .projectEdit])
            _ = try await store.createRole(editor, at: Date())
            let key = try await Self.user(
                server, "editor", grants: [AccessGrant(teamID: "", roleID: editor.id, spaceID: space.id)])
            // The same script and a new description: allowed.
            let same = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["description": "the site", "steps": [script]],
                key: .some(key))
            #expect(same.status == .ok, "\(same.text)")
            // A changed script: refused, naming ScriptStepEdit.
            var changed = script
            changed["properties"] = ["script": "cat ~/.aws/credentials"]
            let refused = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["steps": [changed]], key: .some(key))
            #expect(refused.status == .forbidden, "\(refused.text)")
            #expect(
                refused.errorMessage.contains("needs ScriptStepEdit for script steps of the project 'web'"), "\(refused.text)")
        }
    }

    @Test("A key narrowed to a role allows at most that role, whatever its user may do; an expired key answers 401 saying so")
    func narrowedAndExpiredKeys() async throws {
        try await TestServer.with { server in
            let narrowed = try await server.request(
                .post, "/api/api-keys", json: ["name": "read-only", "role": "Viewer", "space": "default", "expiresInDays": 30])
            #expect(narrowed.status == .created, "\(narrowed.text)")
            let key = try #require(narrowed.json["key"] as? String)
            let stored = try #require(narrowed.json["apiKey"] as? [String: Any])
            #expect(stored["roleId"] as? String == Role.viewer.id && stored["expiresAt"] != nil, "\(stored)")
            #expect(try await server.request(.get, "/api/spaces/default/environments", key: .some(key)).status == .ok)
            let refused = try await server.request(
                .post, "/api/spaces/default/environments", json: ["name": "Production"], key: .some(key))
            #expect(refused.status == .forbidden, "\(refused.text)")
            #expect(refused.errorMessage.contains("needs EnvironmentEdit"), "\(refused.text)")
            // The administrator's own rights are untouched by their narrowed key.
            #expect(
                try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"]).status
                    == .created)
            // Nor can the narrowed key make a key for another user (ApiKeyManage is beyond a Viewer).
            let wider = try await server.request(
                .post, "/api/api-keys", json: ["name": "wider", "user": "someone"], key: .some(key))
            #expect(wider.status == .forbidden, "\(wider.text)")
            // Nor a key for its own user: it would lose the narrowing.
            let own = try await server.request(.post, "/api/api-keys", json: ["name": "unnarrowed"], key: .some(key))
            #expect(own.status == .forbidden && own.errorMessage.contains("narrowed to a role"), "\(own.text)")

            var (expired, record) = APIKeyFactory.make(name: "old", at: Date().addingTimeInterval(-7200))
            record.expiresAt = Date().addingTimeInterval(-3600)
            _ = try await server.server.store.createAPIKey(record)
            let answer = try await server.request(.get, "/api/spaces", key: .some(expired))
            #expect(answer.status == .unauthorized, "\(answer.text)")
            #expect(answer.errorMessage.contains("The API key 'old' expired at"), "\(answer.text)")
        }
    }

    @Test(
        "A server permission gives nothing beyond itself: TeamManage cannot grant a role wider than its holder's, ApiKeyManage cannot mint a key of a wider user, UserManage cannot reset a wider user's password"
    )
    func noEscalation() async throws {
        try await TestServer.with { server in
            let store = server.server.store
            for permission in [Permission.teamManage, .apiKeyManage, .userManage] {
                _ = try await store.createRole(
                    Role(
                        id: "role-\(permission.rawValue)", name: permission.rawValue, description: "", permissions: [permission]),
                    at: Date())
            }
            let teams = try await Self.user(
                server, "teams", grants: [AccessGrant(teamID: "", roleID: "role-TeamManage", spaceID: nil)])
            let keys = try await Self.user(
                server, "keys", grants: [AccessGrant(teamID: "", roleID: "role-ApiKeyManage", spaceID: nil)])
            let users = try await Self.user(
                server, "users", grants: [AccessGrant(teamID: "", roleID: "role-UserManage", spaceID: nil)])
            // Their own team is "teams team"; granting it System administrator would make them one.
            let grant = try await server.request(
                .post, "/api/teams/teams%20team/grants", json: ["role": "System administrator"], key: .some(teams))
            #expect(grant.status == .forbidden, "\(grant.text)")
            let join = try await server.request(
                .post, "/api/teams/Administrators/members", json: ["user": "teams"], key: .some(teams))
            #expect(join.status == .forbidden, "\(join.text)")
            // What they hold themselves they may pass on.
            #expect(
                try await server.request(
                    .post, "/api/teams/teams%20team/grants", json: ["role": "TeamManage"], key: .some(teams)
                ).status == .ok)
            let minted = try await server.request(
                .post, "/api/api-keys", json: ["name": "admin-key", "user": "administrator"], key: .some(keys))
            #expect(minted.status == .forbidden, "\(minted.text)")
            let reset = try await server.request(
                .put, "/api/users/administrator/password", json: ["password": "taken over, at last"], key: .some(users))
            #expect(reset.status == .forbidden, "\(reset.text)")
            #expect(try await store.passwordHash(username: "administrator")?.hash == nil)
        }
    }
}
