import AWSSigV4
import BerthDev
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local IMDSv2: `PUT /latest/api/token` hands out a token, and the credential paths answer only
/// when that token is sent. It can also behave like a container behind a hop limit of 1: the
/// token request never gets an answer.
public final class FakeInstanceMetadataService: Sendable {
    public struct Counts: Sendable, Equatable {
        public var tokenRequests = 0
        public var credentialRequests = 0
        public var requestsWithoutToken = 0

        public init(tokenRequests: Int = 0, credentialRequests: Int = 0, requestsWithoutToken: Int = 0) {
            self.tokenRequests = tokenRequests
            self.credentialRequests = credentialRequests
            self.requestsWithoutToken = requestsWithoutToken
        }
    }

    public let roleName: String
    public let credentials: Credentials
    public let tokenNeverAnswers: Bool
    private let token = "imds-token-\(UUID().uuidString)"
    private let counts = Mutex(Counts())

    public init(roleName: String = "berth-worker", credentials: Credentials, tokenNeverAnswers: Bool = false) {
        self.roleName = roleName
        self.credentials = credentials
        self.tokenNeverAnswers = tokenNeverAnswers
    }

    public var requestCounts: Counts { counts.withLock { $0 } }

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.put("/latest/api/token") { request, _ -> Response in
            self.counts.withLock { $0.tokenRequests += 1 }
            if self.tokenNeverAnswers {
                try await Task.sleep(for: .seconds(30))
            }
            if request.headers[HTTPField.Name("X-Forwarded-For")!] != nil {
                return .text("", status: .forbidden)
            }
            guard let ttl = request.headers[HTTPField.Name("X-aws-ec2-metadata-token-ttl-seconds")!].flatMap(Int.init),
                (1...21_600).contains(ttl)
            else { return .text("", status: .badRequest) }
            return .text(self.token)
        }
        router.get("/latest/meta-data/iam/security-credentials/") { request, _ -> Response in
            guard self.authorized(request) else { return .text("", status: .unauthorized) }
            return .text(self.roleName)
        }
        router.get("/latest/meta-data/iam/security-credentials/{role}") { request, context -> Response in
            guard self.authorized(request) else { return .text("", status: .unauthorized) }
            guard context.parameters.get("role") == self.roleName else { return .text("", status: .notFound) }
            self.counts.withLock { $0.credentialRequests += 1 }
            return .text(credentialDocument(self.credentials), contentType: "application/json")
        }
        return router
    }

    private func authorized(_ request: Request) -> Bool {
        let sent = request.headers[HTTPField.Name("X-aws-ec2-metadata-token")!]
        if sent == nil { counts.withLock { $0.requestsWithoutToken += 1 } }
        return sent == token
    }
}

/// A local container credentials endpoint (ECS agent or EKS Pod Identity agent).
public final class FakeContainerCredentialsEndpoint: Sendable {
    public let path: String
    public let credentials: Credentials
    /// The `Authorization` header value required; `nil` requires none.
    public let requiredToken: String?
    private let requests = Mutex(0)

    public init(path: String = "/v2/credentials/task-role", credentials: Credentials, requiredToken: String? = nil) {
        self.path = path
        self.credentials = credentials
        self.requiredToken = requiredToken
    }

    public var requestCount: Int { requests.withLock { $0 } }

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.get(RouterPath(path)) { request, _ -> Response in
            self.requests.withLock { $0 += 1 }
            if let requiredToken = self.requiredToken, request.headers[.authorization] != requiredToken {
                return .text(
                    #"{"code":"AccessDenied","message":"Authorization token is missing or invalid"}"#, status: .forbidden,
                    contentType: "application/json")
            }
            return .text(
                credentialDocument(self.credentials, roleARN: "arn:aws:iam::123456789012:role/task-role"),
                contentType: "application/json")
        }
        return router
    }
}

func credentialDocument(_ credentials: Credentials, roleARN: String? = nil) -> String {
    var object: [String: String] = [
        "Code": "Success", "AccessKeyId": credentials.accessKeyID, "SecretAccessKey": credentials.secretAccessKey,
        "Type": "AWS-HMAC", "LastUpdated": "2026-11-22T09:00:00Z",
    ]
    if let token = credentials.sessionToken { object["Token"] = token }
    if let expiration = credentials.expiration { object["Expiration"] = expiration.formatted(.iso8601) }
    if let roleARN { object["RoleArn"] = roleARN }
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}
