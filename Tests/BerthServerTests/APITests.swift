import BerthAPI
import Foundation
import HTTPTypes
import Testing

@Suite("REST API in-process")
struct APITests {
    /// Every path and method of openapi.yaml, with placeholders filled in.
    static func documentedRoutes() throws -> [(HTTPRequest.Method, String)] {
        let yaml = String(decoding: try BerthAPIDocument.yaml(), as: UTF8.self)
        var routes: [(HTTPRequest.Method, String)] = []
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast()).replacingOccurrences(of: "{", with: "").replacingOccurrences(
                    of: "}", with: "")
            } else if line.hasPrefix("components:") {
                path = nil
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let verb = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if let method = HTTPRequest.Method(verb), ["GET", "POST", "PATCH", "DELETE", "PUT"].contains(verb) {
                    routes.append((method, "/api" + path))
                }
            }
        }
        return routes
    }

    @Test(
        "Every documented route answers 401 without a key or with a wrong one, never echoing the key — but logging in, which is how a key is had"
    )
    func everyRouteNeedsAKey() async throws {
        let routes = try Self.documentedRoutes()
        #expect(routes.count >= 28)
        let login = (HTTPRequest.Method.post, "/api/sessions")
        #expect(routes.contains { $0 == login })
        try await TestServer.with { server in
            // Logging in needs no key: an empty request is read (and refused for what it lacks).
            let anonymousLogin = try await server.request(.post, "/api/sessions", json: [:], key: .some(nil))
            #expect(anonymousLogin.status == .badRequest, "\(anonymousLogin.text)")
            for (method, path) in routes + [(.get, "/api/openapi.yaml")] where (method, path) != login {
                let anonymous = try await server.request(method, path, json: method == .get ? nil : [:], key: .some(nil))
                #expect(anonymous.status == .unauthorized, "\(method) \(path)")
                #expect(anonymous.json["error"] != nil)
                let wrongKey = "berth_wrong-key-\(UUID().uuidString)"
                let wrong = try await server.request(method, path, key: wrongKey)
                #expect(wrong.status == .unauthorized, "\(method) \(path)")
                #expect(!wrong.text.contains(wrongKey))
            }
            for path in ["/healthz", "/readyz", "/metrics"] {
                #expect(try await server.request(.get, path, key: .some(nil)).status == .ok, "\(path)")
            }
            #expect(try await server.request(.get, "/metrics", key: .some(nil)).text.contains("berth_build_info"))
            #expect(try await server.request(.get, "/api/openapi.yaml").text.hasPrefix("openapi: 3.1.0"))
        }
    }

    @Test("Environments: create, order, rename, and a delete refused while in use")
    func environments() async throws {
        try await TestServer.with { server in
            let base = "/api/spaces/default/environments"
            for name in ["Development", "Production"] {
                #expect(try await server.request(.post, base, json: ["name": name]).status == .created)
            }
            #expect(
                try await server.request(.post, base, json: ["name": "Staging", "sortOrder": 1]).json["sortOrder"] as? Int == 1)
            #expect(
                try await server.request(.get, base).items.map { $0["name"] as? String } == [
                    "Development", "Staging", "Production",
                ])
            let renamed = try await server.request(.patch, base + "/staging", json: ["name": "QA", "sortOrder": 2])
            #expect(renamed.json["name"] as? String == "QA" && renamed.json["sortOrder"] as? Int == 2)
            let duplicate = try await server.request(.post, base, json: ["name": "production"])
            #expect(duplicate.status == .conflict)

            let account = try await server.request(
                .post, "/api/spaces/default/accounts",
                json: [
                    "type": "aws-access-key", "name": "qa-keys", "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                    "secretKey": "s3cret-value",
                    "environments": ["QA"],
                ])
            #expect(account.status == .created)
            let refused = try await server.request(.delete, base + "/QA")
            #expect(refused.status == .conflict)
            #expect(refused.errorMessage.contains("account 'qa-keys'"))
            #expect(try await server.request(.delete, "/api/spaces/default/accounts/qa-keys").status == .noContent)
            #expect(try await server.request(.delete, base + "/QA").status == .noContent)
            #expect(try await server.request(.get, base + "/QA").status == .notFound)
        }
    }

    @Test("Account secrets are write-only: every answer says hasValue, none carries the secret")
    func secretsAreWriteOnly() async throws {
        try await TestServer.with { server in
            let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            let created = try await server.request(
                .post, "/api/spaces/default/accounts",
                json: ["type": "aws-access-key", "name": "ops", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretKey": secret])
            #expect(created.status == .created)
            #expect((created.json["secretKey"] as? [String: Any])?["hasValue"] as? Bool == true)
            let replies = [
                created, try await server.request(.get, "/api/spaces/default/accounts"),
                try await server.request(.get, "/api/spaces/default/accounts/ops"),
                try await server.request(
                    .patch, "/api/spaces/default/accounts/ops", json: ["description": "rotated", "secretKey": secret + "2"]),
            ]
            for reply in replies {
                #expect(!reply.text.contains(secret), "\(reply.text)")
                #expect(!reply.text.contains(Data(secret.utf8).base64EncodedString()))
            }
            #expect(replies[3].json["description"] as? String == "rotated")
        }
    }

    @Test("Bad input is a 4xx that names the field, never a 500")
    func badInput() async throws {
        try await TestServer.with { server in
            let accounts = "/api/spaces/default/accounts"
            let missing = try await server.request(.post, accounts, json: ["type": "aws-access-key", "name": "x"])
            #expect(missing.status == .badRequest)
            #expect(Set(missing.errorFields) == ["accessKeyId", "secretKey"])
            let notJSON = try await server.request(.post, accounts, text: "{not json")
            #expect(notJSON.status == .badRequest)
            let wrongType = try await server.request(.post, accounts, json: ["type": "aws-access-key", "name": 42])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.errorMessage.contains("'name'"))
            let unknownKind = try await server.request(.post, accounts, json: ["type": "azure", "name": "x"])
            #expect(unknownKind.status == .badRequest)
            let badLimit = try await server.request(.get, "/api/spaces/default/targets?limit=0")
            #expect(badLimit.status == .badRequest)
            #expect(badLimit.errorFields == ["limit"])
            let notANumber = try await server.request(.get, "/api/spaces/default/targets?limit=ten")
            #expect(notANumber.status == .badRequest)
            #expect(try await server.request(.get, "/api/spaces/nowhere/targets").status == .notFound)
            #expect(try await server.request(.get, "/api/no-such-route").status == .notFound)
        }
    }

    @Test("Targets are validated against environments, accounts and AWS rules")
    func targetValidation() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"])
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
            _ = try await server.request(
                .post, "/api/spaces/default/accounts",
                json: [
                    "type": "aws-access-key", "name": "prod", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretKey": "secret-1",
                    "environments": ["Production"],
                ])
            let targets = "/api/spaces/default/targets"
            let unknownEnvironment = try await server.request(
                .post, targets,
                json: [
                    "name": "t", "environments": ["Prod"], "roles": ["web"], "region": "eu-west-1", "clusterName": "c",
                    "account": "prod",
                ])
            #expect(unknownEnvironment.status == .badRequest)
            #expect(unknownEnvironment.errorMessage.contains("'Prod'"))
            let restricted = try await server.request(
                .post, targets,
                json: [
                    "name": "t", "environments": ["Staging"], "roles": ["web"], "region": "eu-west-1", "clusterName": "c",
                    "account": "prod",
                    "assumeRole": ["roleArn": "arn:aws:iam::123456789012:role/Deploy", "externalId": "x"],
                ])
            #expect(restricted.status == .badRequest)
            #expect(Set(restricted.errorFields) == ["account", "assumeRole.externalId"])
            let created = try await server.request(
                .post, targets,
                json: [
                    "name": "web-prod", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                    "clusterName": "prod",
                    "account": "prod",
                    "assumeRole": ["roleArn": "arn:aws:iam::123456789012:role/Deploy", "externalId": "ext-42"],
                ])
            #expect(created.status == .created)
            #expect(created.json["workerPool"] as? String == "Default Worker Pool")
            #expect((created.json["health"] as? [String: Any])?["status"] as? String == "unknown")
            #expect(
                try await server.request(
                    .post, targets,
                    json: [
                        "name": "web-prod", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                        "clusterName": "prod", "useWorkerCredentials": true,
                    ]
                ).status == .conflict)
            #expect(try await server.request(.delete, "/api/spaces/default/accounts/prod").status == .conflict)
            // Listings are cached per space revision: every change shows at once.
            #expect(try await server.request(.get, targets).items.map { $0["name"] as? String } == ["web-prod"])
            _ = try await server.request(.patch, "/api/spaces/default/accounts/prod", json: ["name": "prod-keys"])
            #expect(try await server.request(.get, targets).items.first?["account"] as? String == "prod-keys")
            // A change to what the check looks at resets the health; a rename does not need to.
            let moved = try await server.request(
                .patch, targets + "/web-prod",
                json: ["name": "web-production", "clusterName": "prod-2", "removeAssumeRole": true, "roles": ["web", "api"]])
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(moved.json["name"] as? String == "web-production" && moved.json["clusterName"] as? String == "prod-2")
            #expect(moved.json["assumeRole"] == nil)
            #expect(moved.json["roles"] as? [String] == ["web", "api"])
            let toWorker = try await server.request(.patch, targets + "/web-production", json: ["useWorkerCredentials": true])
            #expect(toWorker.json["useWorkerCredentials"] as? Bool == true && toWorker.json["account"] == nil)
            let badMove = try await server.request(
                .patch, targets + "/web-production", json: ["environments": ["Staging"], "account": "prod-keys"])
            #expect(badMove.status == .badRequest)
            #expect(badMove.errorFields == ["account"])
            #expect(try await server.request(.get, targets).items.first?["name"] as? String == "web-production")
            #expect(try await server.request(.delete, targets + "/web-production").status == .noContent)
            #expect(try await server.request(.get, targets).items.isEmpty)
        }
    }

    @Test("A new API key works at once and stops working the moment it is revoked")
    func apiKeys() async throws {
        try await TestServer.with { server in
            let created = try await server.request(.post, "/api/api-keys", json: ["name": "ci"])
            #expect(created.status == .created)
            let key = try #require(created.json["key"] as? String)
            #expect(key.hasPrefix("berth_"))
            #expect(try await server.request(.get, "/api/spaces", key: key).status == .ok)
            let listed = try await server.request(.get, "/api/api-keys")
            #expect(!listed.text.contains(key))
            #expect(listed.items.map { $0["name"] as? String } == ["administrator", "ci"])
            #expect(try await server.request(.delete, "/api/api-keys/ci").status == .noContent)
            #expect(try await server.request(.get, "/api/spaces", key: key).status == .unauthorized)
        }
    }
}
