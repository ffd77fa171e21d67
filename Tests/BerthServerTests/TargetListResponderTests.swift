import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OpenAPIRuntime
import Testing

@testable import BerthServer

/// `TargetListResponder` answers target listings as the generated handler does (the same JSON
/// values, status and content type), and hands it every request it cannot read exactly as the
/// generated code reads it.
@Suite struct TargetListResponderTests {
    /// Targets with tricky names, environments, accounts, pools, assume-role settings and health
    /// details in the default space, written through the store (the API refuses control characters).
    static func seed(_ store: BerthStore) async throws {
        let now = Date(timeIntervalSince1970: 1_764_000_000.25)
        let space = try await store.space("default")
        let production = try await store.createEnvironment(
            Environment(spaceID: space.id, name: "Production", sortOrder: 0, createdAt: now), position: nil)
        let staging = try await store.createEnvironment(
            Environment(spaceID: space.id, name: "Stäging \"/\\", sortOrder: 0, createdAt: now), position: nil)
        let account = try await store.createAccount(
            Account(
                spaceID: space.id, kind: .awsAccessKey, name: "ops </script>", accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                secretKey: SealedSecret(ciphertext: "v1:sealed"), createdAt: now))
        let pool = try await store.createWorkerPool(
            WorkerPool(spaceID: space.id, name: "Pool 中文", isDefault: false, createdAt: now))
        let defaultPool = try await store.defaultWorkerPool(spaceID: space.id)
        let texts = ["plain", "quote \" back \\ slash /", "tab\tline\n\u{1}\u{1f}\u{7f}", "é 🚀 \u{2028}", "last"]
        for (index, text) in texts.enumerated() {
            _ = try await store.createTarget(
                ECSClusterTarget(
                    spaceID: space.id, name: "t\(index) \(text)",
                    environmentIDs: index.isMultiple(of: 2) ? [production.id, staging.id] : [staging.id],
                    roles: index == 1 ? ["web", "a\"b"] : ["web"],
                    authentication: index.isMultiple(of: 2) ? .account(account.id) : .workerCredentials,
                    assumeRole: index == 3
                        ? AssumeRoleSettings(
                            roleARN: "arn:aws:iam::123456789012:role/\(text)", sessionName: text, sessionDuration: 3600,
                            externalID: text) : nil,
                    region: "eu-west-1", clusterName: text, workerPoolID: index == 1 ? pool.id : defaultPool.id,
                    health: index == 2
                        ? TargetHealth(status: .unhealthy, message: text, checkedAt: now.addingTimeInterval(9), taskID: "task-1")
                        : TargetHealth(),
                    createdAt: now.addingTimeInterval(Double(index))))
        }
    }

    static let handedOn = HTTPResponse.Status(code: 299, reasonPhrase: "Handed on")

    struct Answer: Equatable {
        var status: HTTPResponse.Status
        var contentType: String?
        var body: String
    }

    static func get(_ server: TestServer, _ path: String, accept: String? = "application/json") async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(server.key)", .cacheControl: "no-cache"]
        headers[.accept] = accept
        return try await server.client.execute(uri: path, method: .get, headers: headers, body: nil) { response in
            Answer(status: response.status, contentType: response.headers[.contentType], body: String(buffer: response.body))
        }
    }

    @Test("A listing written by TargetListJSON is the generated handler's answer")
    func sameAnswersAsTheGeneratedHandler() async throws {
        try await TestServer.with { server in
            try await Self.seed(server.server.store)
            let queries = [
                "", "?limit=2", "?limit=2&after=t1%20quote", "?after=t2", "?environment=Production", "?environment=production",
                "?role=web", "?role=a%22b", "?environment=St%C3%A4ging%20%22%2F%5C&limit=1", "?environment=nowhere",
                "?limit=1000&role=none", "?after=t1+quote",
            ]
            for query in queries {
                let path = "/api/spaces/default/targets" + query
                let written = try await Self.get(server, path)
                // A parameter the responder does not know sends the request to the generated
                // handler, which ignores it.
                let generated = try await Self.get(server, path + (query.isEmpty ? "?" : "&") + "reference=generated")
                #expect(written.status == generated.status, "\(query)")
                #expect(written.contentType == generated.contentType, "\(query)")
                #expect(
                    try CanonicalJSON.text(Array(written.body.utf8)) == CanonicalJSON.text(Array(generated.body.utf8)), "\(query)"
                )
                #expect(written.status == (query == "?environment=nowhere" ? .badRequest : .ok), "\(query)")
            }
            // Without an Accept header, and with one that the generated code refuses.
            for accept in [nil, "text/html"] {
                let path = "/api/spaces/default/targets?limit=3"
                let written = try await Self.get(server, path, accept: accept)
                let generated = try await Self.get(server, path + "&reference=generated", accept: accept)
                #expect(written.status == generated.status, "\(accept ?? "none")")
                #expect(written.body == generated.body || accept == nil, "\(accept ?? "none")")
                if accept == nil {
                    #expect(try CanonicalJSON.text(Array(written.body.utf8)) == CanonicalJSON.text(Array(generated.body.utf8)))
                }
            }
            let all = try await Self.get(server, "/api/spaces/default/targets")
            #expect(all.body.contains(#""name":"t1 quote \" back \\ slash \/""#))
            #expect(all.body.contains(#""environments":["Production","Stäging \"\/\\"]"#))
            #expect(all.body.contains(#""account":"ops <\/script>""#))
            #expect(all.body.contains(#""workerPool":"Pool 中文""#))
        }
    }

    @Test(
        "Queries are read as the generated code reads them",
        arguments: [
            ("", TargetListQuery()), ("limit=20", TargetListQuery(limit: 20)),
            ("after=t1+quote%2B%22&limit=007", TargetListQuery(limit: 7, after: "t1 quote+\"")),
            ("environment=St%C3%A4ging&role=a%26b", TargetListQuery(environment: "Stäging", role: "a&b")),
        ])
    func readsQueries(query: String, expected: TargetListQuery) {
        #expect(TargetListQuery(percentEncoded: query[...]) == expected)
    }

    @Test("Simple queries are answered by the responder, the others by the generated handler")
    func handsOnWhatItCannotRead() async throws {
        try await TestServer.with { server in
            try await Self.seed(server.server.store)
            let berth = server.server
            let service = APIService(useCases: berth.useCases, apiKeys: APIKeyCache(store: berth.store))
            let responder = TargetListResponder(service: service, spaces: SpaceIDs(store: berth.store))
            let cases: [(space: String, query: String, accept: String?, answered: Bool)] = [
                ("default", "", nil, true), ("default", "?limit=2&after=t1", nil, true),
                ("default", "?role=web&environment=Production", nil, true), ("default", "", "application/json", true),
                ("default", "", "*/*", true), ("default", "?limit=2&limit=3", nil, false), ("default", "?limit=two", nil, false),
                ("default", "?unknown=1", nil, false), ("default", "?after=%zz", nil, false), ("default", "?after=", nil, false),
                ("default", "?limit", nil, false), ("default", "?limit=1&&after=t1", nil, false), ("nowhere", "", nil, false),
                ("default", "", "text/html", false), ("default", "", "application/json;q=0.5, text/plain", false),
            ]
            for (space, query, accept, answered) in cases {
                var request = HTTPRequest(
                    method: .get, scheme: nil, authority: nil, path: "/api/spaces/\(space)/targets\(query)")
                if let accept { request.headerFields[.accept] = accept }
                let (response, body) = try await responder.intercept(
                    request, body: nil, metadata: ServerRequestMetadata(pathParameters: ["space": space[...]]),
                    operationID: "listTargets"
                ) { _, _, _ in (HTTPResponse(status: Self.handedOn), nil) }
                #expect(response.status == (answered ? .ok : Self.handedOn), "\(space) \(query) \(accept ?? "")")
                if answered {
                    let bytes = try await [UInt8](collecting: try #require(body), upTo: 1 << 20)
                    let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
                    #expect(object?["items"] is [Any], "\(query)")
                }
            }
        }
    }
}
