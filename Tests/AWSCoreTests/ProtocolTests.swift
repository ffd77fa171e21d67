import AWSCore
import AWSECS
import AWSSTS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

@Suite("AWS JSON 1.1 and Query protocols against a local server")
struct ProtocolTests {
    static let keys = Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")

    static func client(
        _ service: AWSServiceDescriptor, _ url: String, clock: TestClock = TestClock(), retry: RetryPolicy = .standard
    )
        throws -> AWSClient
    {
        try AWSClient(
            service: service, region: "us-east-1", credentialProvider: StaticCredentialProvider(keys),
            environment: ["AWS_ENDPOINT_URL": url], retryPolicy: retry, clock: clock)
    }

    @Test("a JSON 1.1 call sends the target, content type and a signature, and decodes the answer")
    func jsonCall() async throws {
        let seen = Mutex<[String: String]>([:])
        let router = Router()
        router.post("/") { request, _ -> Response in
            let body = try await request.bodyText()
            seen.withLock {
                $0["target"] = request.headers[HTTPField.Name("X-Amz-Target")!]
                $0["contentType"] = request.headers[.contentType]
                $0["authorization"] = request.headers[.authorization]
                $0["body"] = body
            }
            return .text(
                #"{"clusters":[{"clusterName":"prod","status":"ACTIVE","runningTasksCount":3,"tags":[{"key":"team","value":"web"}]}],"failures":[]}"#,
                contentType: "application/x-amz-json-1.1")
        }
        let answer = try await withLocalServer(router) { url in
            try await ECSClient(client: Self.client(.ecs, url)).describeClusters(.init(clusters: ["prod"], include: [.tags]))
        }
        let cluster = try #require(answer.clusters?.first)
        #expect(cluster.clusterName == "prod")
        #expect(cluster.status == "ACTIVE")
        #expect(cluster.runningTasksCount == 3)
        #expect(cluster.tags == [ECS.Tag(key: "team", value: "web")])
        let request = seen.withLock { $0 }
        #expect(request["target"] == "AmazonEC2ContainerServiceV20141113.DescribeClusters")
        #expect(request["contentType"] == "application/x-amz-json-1.1")
        #expect(request["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
        #expect(request["authorization"]?.contains("/us-east-1/ecs/aws4_request") == true)
        #expect(request["body"] == #"{"clusters":["prod"],"include":["TAGS"]}"#)
    }

    @Test(
        "JSON errors keep their code, message, request id and status",
        arguments: [
            (
                #"{"__type":"ClusterNotFoundException","message":"Cluster not found."}"#, nil as String?,
                "ClusterNotFoundException", "Cluster not found."
            ),
            (
                #"{"__type":"com.amazonaws.ecs#ServiceNotFoundException","Message":"Service not found."}"#, nil,
                "ServiceNotFoundException", "Service not found."
            ),
            (
                #"{"message":"Rate exceeded"}"#, "ThrottlingException:http://internal.amazon.com/", "ThrottlingException",
                "Rate exceeded"
            ),
        ])
    func jsonErrors(body: String, typeHeader: String?, code: String, message: String) async throws {
        let router = Router()
        router.post("/") { _, _ -> Response in
            var response = Response.text(body, status: .badRequest, contentType: "application/x-amz-json-1.1")
            response.headers[HTTPField.Name("x-amzn-RequestId")!] = "req-42"
            if let typeHeader { response.headers[HTTPField.Name("x-amzn-ErrorType")!] = typeHeader }
            return response
        }
        try await withLocalServer(router) { url in
            let ecs = ECSClient(client: try Self.client(.ecs, url, retry: .none))
            do {
                _ = try await ecs.describeServices(.init(services: ["web"], cluster: "prod"))
                Issue.record("expected an error")
            } catch let error as AWSError {
                #expect(error.code.rawValue == code)
                #expect(error.message == message)
                #expect(error.requestID == "req-42")
                #expect(error.statusCode == 400)
                #expect(error.operation == "Amazon ECS DescribeServices")
            }
        }
    }

    @Test("common codes match in a switch")
    func codeMatching() {
        let error: any Error = AWSError(
            code: "ClusterNotFoundException", message: "", requestID: nil, statusCode: 400, operation: "x")
        switch error {
        case AWSErrorCode.serviceNotFound: Issue.record("wrong match")
        case AWSErrorCode.clusterNotFound: break
        default: Issue.record("no match")
        }
    }

    @Test("Query XML errors keep their code, message and request id")
    func queryErrors() async throws {
        let router = Router()
        router.post("/") { _, _ -> Response in
            .text(
                """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>
                  <Message>The request signature we calculated does not match the signature you provided.</Message></Error>
                  <RequestId>4a5b-req</RequestId>
                </ErrorResponse>
                """, status: .forbidden, contentType: "text/xml")
        }
        try await withLocalServer(router) { url in
            let sts = STSClient(client: try Self.client(.sts, url))
            await #expect {
                try await sts.getCallerIdentity()
            } throws: { error in
                guard let error = error as? AWSError else { return false }
                return error.code == .signatureDoesNotMatch && error.requestID == "4a5b-req" && error.statusCode == 403
                    && error.message.hasPrefix("The request signature we calculated")
            }
        }
    }

    @Test("a throttled call is retried with backoff and then succeeds")
    func retriesThenSucceeds() async throws {
        let calls = Mutex(0)
        let router = Router()
        router.post("/") { _, _ -> Response in
            let number = calls.withLock {
                $0 += 1; return $0
            }
            if number <= 2 {
                return .text(#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#, status: .badRequest)
            }
            return .text(#"{"clusterArns":["arn:aws:ecs:us-east-1:123456789012:cluster/a"]}"#)
        }
        let clock = TestClock()
        let answer = try await withLocalServer(router) { url in
            try await ECSClient(client: Self.client(.ecs, url, clock: clock, retry: RetryPolicy(random: { 0.5 }))).listClusters(
                .init())
        }
        #expect(answer.clusterArns == ["arn:aws:ecs:us-east-1:123456789012:cluster/a"])
        #expect(calls.withLock { $0 } == 3)
        #expect(clock.sleeps == [.milliseconds(500), .seconds(1)])
    }

    @Test("a service that keeps failing gives up after three attempts with the last error")
    func givesUp() async throws {
        let calls = Mutex(0)
        let router = Router()
        router.post("/") { _, _ -> Response in
            calls.withLock { $0 += 1 }
            return .text("<html>Service Unavailable</html>", status: .serviceUnavailable, contentType: "text/html")
        }
        try await withLocalServer(router) { url in
            let ecs = ECSClient(client: try Self.client(.ecs, url, retry: RetryPolicy(random: { 0 })))
            await #expect {
                try await ecs.listClusters(.init())
            } throws: { error in
                (error as? AWSError)?.statusCode == 503 && (error as? AWSError)?.code.rawValue == "HTTP503"
            }
        }
        #expect(calls.withLock { $0 } == 3)
    }

    @Test("a connection that is refused is a connectionFailed client error")
    func connectionRefused() async throws {
        let port = try freeLoopbackPort()
        let ecs = ECSClient(client: try Self.client(.ecs, "http://127.0.0.1:\(port)", retry: .none))
        await #expect {
            try await ecs.listClusters(.init())
        } throws: { error in
            (error as? AWSClientError)?.code == .connectionFailed
        }
    }

    @Test("paginators follow nextToken until it is gone")
    func paginator() async throws {
        let tokens = Mutex<[String?]>([])
        let router = Router()
        router.post("/") { request, _ -> Response in
            let body = try await request.bodyText()
            let input = try JSONDecoder().decode(ECS.ListClustersRequest.self, from: Data(body.utf8))
            tokens.withLock { $0.append(input.nextToken) }
            switch input.nextToken {
            case nil: return .text(#"{"clusterArns":["a","b"],"nextToken":"page2"}"#)
            case "page2": return .text(#"{"clusterArns":["c"],"nextToken":"page3"}"#)
            default: return .text(#"{"clusterArns":["d"]}"#)
            }
        }
        let arns = try await withLocalServer(router) { url in
            var arns: [String] = []
            for try await page in ECSClient(client: try Self.client(.ecs, url)).listClustersPages(.init(maxResults: 2)) {
                arns += page.clusterArns ?? []
            }
            return arns
        }
        #expect(arns == ["a", "b", "c", "d"])
        #expect(tokens.withLock { $0 } == [nil, "page2", "page3"])
    }

    @Test("an answer that is not the expected JSON is a clear invalidResponse error")
    func unreadableAnswer() async throws {
        let router = Router()
        router.post("/") { _, _ -> Response in .text(#"{"clusters":[{"runningTasksCount":"three"}]}"#) }
        try await withLocalServer(router) { url in
            let ecs = ECSClient(client: try Self.client(.ecs, url))
            await #expect {
                try await ecs.describeClusters(.init())
            } throws: { error in
                guard let error = error as? AWSClientError else { return false }
                return error.code == .invalidResponse && error.message.contains("clusters[0].runningTasksCount")
            }
        }
    }
}

@Suite("Sensitive request values stay out of descriptions")
struct RedactionTests {
    @Test("a web identity request never prints its token")
    func webIdentityToken() {
        let request = AssumeRoleWithWebIdentityRequest(
            roleARN: "arn:aws:iam::123456789012:role/r", roleSessionName: "s", webIdentityToken: "eyJ.SECRET-TOKEN.sig")
        for text in ["\(request)", String(reflecting: request)] {
            #expect(!text.contains("SECRET-TOKEN"))
            #expect(text.contains("arn:aws:iam::123456789012:role/r"))
        }
    }
}
