import BerthAPI
import BerthServer
import BerthStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import Yams

@Suite("Request limits and the OpenAPI contract")
struct RequestLimitTests {
    @Test("A body over the cap is answered 413 with the JSON error, on API, OpenAPI and other routes alike")
    func bodyCap() async throws {
        #expect(HTTPSettings().maximumBodySize == 4 * 1024 * 1024)
        // The default: 4 MiB and one byte more is refused.
        try await TestServer.with { server in
            let big = "{\"name\": \"" + String(repeating: "a", count: 4 * 1024 * 1024) + "\"}"
            let reply = try await server.request(.post, "/api/spaces/default/environments", text: big)
            #expect(reply.status == .contentTooLarge)
            #expect((reply.json["error"] as? [String: Any])?["code"] as? String == "payload_too_large")
            #expect(reply.errorMessage.contains("4 MiB"))
        }
        try await TestServer.with(configure: { $0.http.maximumBodySize = 1024 }) { server in
            let body = "{\"name\": \"" + String(repeating: "b", count: 2000) + "\"}"
            for (method, path) in [
                (HTTPRequest.Method.post, "/api/spaces/default/environments"), (.post, "/api/oidc/keys/rotate"),
                (.put, "/api/spaces/default/projects/web"), (.post, "/healthz"), (.get, "/.well-known/openid-configuration"),
            ] {
                let reply = try await server.request(method, path, text: body)
                #expect(reply.status == .contentTooLarge, "\(method) \(path)")
                #expect(reply.errorMessage.contains("1 KiB"), "\(method) \(path)")
            }
            // Under the cap, the same route works.
            #expect(try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Dev"]).status == .created)
        }
    }

    @Test("Every free string of a request has maxLength and every array maxItems, and the server enforces them")
    func lengthsAreDocumentedAndEnforced() async throws {
        let document = try #require(
            try Yams.load(yaml: String(decoding: try BerthAPIDocument.yaml(), as: UTF8.self)) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var unbounded: [String] = []
        for name in [
            "SpaceCreate", "EnvironmentCreate", "EnvironmentUpdate", "AccountCreate", "AccountUpdate", "AssumeRole",
            "TargetCreate", "TargetUpdate", "WorkerPoolCreate", "Step", "ProjectCreate", "ProjectApply", "VariableScope",
            "VariableInput", "ReleaseCreate", "DeploymentCreate", "ApiKeyCreate",
        ] {
            let properties = try #require((schemas[name] as? [String: Any])?["properties"] as? [String: Any])
            for (property, value) in properties {
                guard let schema = value as? [String: Any] else { continue }
                switch schema["type"] as? String {
                case "string" where schema["maxLength"] == nil && schema["enum"] == nil:
                    unbounded.append("\(name).\(property)")
                case "array" where schema["maxItems"] == nil:
                    unbounded.append("\(name).\(property)")
                case "array":
                    if let items = schema["items"] as? [String: Any], items["type"] as? String == "string",
                        items["maxLength"] == nil, items["enum"] == nil
                    {
                        unbounded.append("\(name).\(property)[]")
                    }
                case "object" where schema["maxProperties"] == nil:
                    unbounded.append("\(name).\(property)")
                default: break
                }
            }
        }
        #expect(unbounded.isEmpty, "unbounded: \(unbounded.sorted())")

        try await TestServer.with { server in
            // A project description is stored as given by the domain; only the document bounds it.
            let long = try await server.request(
                .post, "/api/spaces/default/projects",
                json: ["name": "Web", "description": String(repeating: "d", count: 2001)])
            #expect(long.status == .badRequest)
            #expect(long.errorFields == ["description"])
            #expect(long.errorMessage.contains("is 2001 characters long; the limit is 2000"))
            let roles = (0..<101).map { "role-\($0)" }
            let many = try await server.request(
                .post, "/api/spaces/default/targets",
                json: [
                    "name": "t", "environments": ["Dev"], "roles": roles, "region": "us-east-1", "clusterName": "c",
                    "useWorkerCredentials": true,
                ])
            #expect(many.status == .badRequest)
            #expect(many.errorMessage.contains("roles: has 101 items; the limit is 100"))
            let longName = try await server.request(
                .post, "/api/spaces/default/environments", json: ["name": String(repeating: "n", count: 201)])
            #expect(longName.errorMessage.contains("name: is 201 characters long; the limit is 200"))
            let longPath = try await server.request(.get, "/api/spaces/" + String(repeating: "s", count: 201) + "/projects")
            #expect(longPath.status == .badRequest)
            #expect(longPath.errorFields == ["space"])
        }
    }

    @Test("A wrong enum value names the field and the allowed values, in bodies and queries")
    func enumErrors() async throws {
        try await TestServer.with { server in
            let account = try await server.request(.post, "/api/spaces/default/accounts", json: ["type": "aws", "name": "A"])
            #expect(account.status == .badRequest)
            #expect(account.errorMessage.contains("type: 'aws' is not one of aws-access-key, aws-oidc"))
            #expect(!account.errorMessage.contains("Cannot initialize"))
            let tasks = try await server.request(.get, "/api/tasks?state=done")
            #expect(tasks.status == .badRequest)
            #expect(
                tasks.errorMessage.contains(
                    "state: 'done' is not one of queued, executing, succeeded, failed, cancelled, timed-out, rolled-back"))
            let step = try await server.request(
                .put, "/api/spaces/default/projects/web", json: ["steps": [["name": "s", "type": "deploy-lambda"]]])
            #expect(step.errorMessage.contains("steps[0].type: 'deploy-lambda' is not one of deploy-ecs-service"))
            let rotate = try await server.request(.post, "/api/oidc/keys/rotate", json: ["algorithm": "HS256"])
            #expect(rotate.errorMessage.contains("algorithm: 'HS256' is not one of RS256, ES256"))
        }
    }

    @Test("A body the check cannot read is refused, not passed on unchecked: an out-of-range number beside a too-long name")
    func unreadableBodyRefused() async throws {
        try await TestServer.with { server in
            let name = String(repeating: "n", count: 300)
            let reply = try await server.request(.post, "/api/spaces", text: #"{"name": "\#(name)", "pad": 1e400}"#)
            #expect(reply.status == .badRequest)
            #expect(reply.errorMessage.contains("not a JSON document Berth can read"), "\(reply.errorMessage)")
            #expect(try await server.server.store.findSpace(name) == nil)
        }
    }

    @Test("Documented ranges are enforced with the field's name: limit=0, an empty name")
    func documentedRanges() async throws {
        try await TestServer.with { server in
            let zero = try await server.request(.get, "/api/tasks?limit=0")
            #expect(zero.status == .badRequest)
            #expect(zero.errorMessage.contains("limit: must be at least 1 (got 0)"))
            let text = try await server.request(.get, "/api/tasks?limit=many")
            #expect(text.errorMessage.contains("limit: must be an integer"))
            let empty = try await server.request(.post, "/api/spaces", json: ["name": ""])
            #expect(empty.errorFields == ["name"])
            #expect(empty.errorMessage.contains("name: must not be empty"))
        }
    }

    @Test("An empty body is read as {} where every member is optional; where one is needed, the answer says which")
    func emptyBodies() async throws {
        try await TestServer.with { server in
            for headers in [true, false] {
                var fields: HTTPFields = [.authorization: "Bearer \(server.key)"]
                if headers { fields[.contentType] = "application/json" }
                let status = try await server.client.execute(
                    uri: "/api/oidc/keys/rotate", method: .post, headers: fields, body: ByteBuffer()
                ) { $0.status }
                // The first rotation is made; a second may be refused while the first key waits, but
                // never for its empty body.
                #expect(headers ? status == .created : status != .badRequest && status.code < 500, "Content-Type: \(headers)")
            }
            #expect(try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Dev"]).status == .created)
            let patch = try await server.request(.patch, "/api/spaces/default/environments/Dev", text: "")
            #expect(patch.status == .badRequest)
            #expect(patch.errorMessage.contains("body: needs at least 1 of name, sortOrder"))
            let create = try await server.request(.post, "/api/spaces/default/environments", text: "")
            #expect(create.errorMessage.contains("name: is required"))
        }
    }

    @Test("A known path with an unknown method is 405 with Allow; an unknown path stays 404")
    func methodNotAllowed() async throws {
        try await TestServer.with { server in
            let spaces = try await server.request(.delete, "/api/spaces")
            #expect(spaces.status == .methodNotAllowed)
            #expect((spaces.json["error"] as? [String: Any])?["code"] as? String == "method_not_allowed")
            let allow = try await server.client.execute(
                uri: "/api/spaces/default/targets/web", method: .put, headers: [.authorization: "Bearer \(server.key)"]
            ) { $0.headers[.allow] }
            #expect(allow == "DELETE, GET, PATCH")
            let health = try await server.client.execute(uri: "/healthz", method: .delete) { ($0.status, $0.headers[.allow]) }
            #expect(health.0 == .methodNotAllowed)
            #expect(health.1 == "GET")
            #expect(try await server.request(.get, "/api/no-such-thing").status == .notFound)
        }
    }
}
