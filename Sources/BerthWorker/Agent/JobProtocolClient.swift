import AsyncHTTPClient
import BerthDomain
import Foundation
import NIOCore
import NIOHTTP1

/// A worker's side of the job protocol: JSON over HTTP(S) to the server, nothing else.
public struct JobProtocolClient: Sendable {
    /// The server's base URL, e.g. `https://berth.example.com`.
    public let server: URL
    /// The worker's credential; nil only to register.
    let credential: String?
    let http: HTTPClient

    public init(server: URL, credential: String?, http: HTTPClient = .shared) {
        self.server = server
        self.credential = credential
        self.http = http
    }

    /// What the server answered when it refused a call.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var status: Int
        public var code: String?
        public var message: String

        public var description: String { message }
        /// The job is no longer this worker's (409), or the worker itself is gone (401: deleted).
        public var isConflict: Bool { status == 409 || status == 401 }
    }

    public func register(_ request: JobProtocol.RegisterRequest) async throws -> JobProtocol.RegisterResponse {
        guard let answer = try await post("register", request, as: JobProtocol.RegisterResponse.self) else {
            throw Failure(status: 204, code: nil, message: "The server answered the registration with no body.")
        }
        return answer
    }

    /// A job, or nil when none came within the long poll.
    public func claim(version: String) async throws -> JobProtocol.ClaimResponse? {
        try await post(
            "jobs/claim", JobProtocol.ClaimRequest(version: version, waitSeconds: JobProtocol.longPollSeconds),
            as: JobProtocol.ClaimResponse.self, timeout: .seconds(Int64(JobProtocol.longPollSeconds + 15)))
    }

    public func sendLog(_ jobID: String, lines: [StepJobLogLine]) async throws -> JobProtocol.LeaseState {
        try await post("jobs/\(jobID)/log", JobProtocol.LogRequest(lines: lines), as: JobProtocol.LeaseResponse.self)?.state
            ?? .held
    }

    public func record(_ jobID: String, progress: StepProgress) async throws {
        _ = try await post("jobs/\(jobID)/progress", JobProtocol.ProgressRequest(progress: progress), as: Empty.self)
    }

    public func lock(_ jobID: String, key: String, release: Bool) async throws -> JobProtocol.LockResponse {
        guard
            let answer = try await post(
                "jobs/\(jobID)/lock", JobProtocol.LockRequest(key: key, release: release), as: JobProtocol.LockResponse.self)
        else { throw Failure(status: 204, code: nil, message: "The server answered a lock request with no body.") }
        return answer
    }

    public func token(_ jobID: String) async throws -> String {
        guard let answer = try await post("jobs/\(jobID)/token", Empty(), as: JobProtocol.TokenResponse.self) else {
            throw Failure(status: 204, code: nil, message: "The server answered a token request with no body.")
        }
        return answer.token
    }

    public func ask(_ jobID: String, _ request: JobProtocol.AskRequest) async throws -> JobProtocol.AskResponse {
        guard let answer = try await post("jobs/\(jobID)/ask", request, as: JobProtocol.AskResponse.self) else {
            throw Failure(status: 204, code: nil, message: "The server answered a question with no body.")
        }
        return answer
    }

    public func finish(_ jobID: String, outcome: StepOutcome) async throws {
        _ = try await post("jobs/\(jobID)/outcome", JobProtocol.OutcomeRequest(outcome: outcome), as: Empty.self)
    }

    struct Empty: Codable {}

    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var code: String?
            var message: String
        }
        var error: Detail
    }

    /// POSTs `body` as JSON to `path` under the protocol's base; nil for 204.
    func post<Body: Encodable, Answer: Decodable>(
        _ path: String, _ body: Body, as: Answer.Type, timeout: TimeAmount = .seconds(30)
    ) async throws -> Answer? {
        let url = server.absoluteString.trimmingTrailingSlashes + JobProtocol.basePath + "/" + path
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "berth-worker")
        if let credential { request.headers.add(name: "Authorization", value: "Bearer \(credential)") }
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let data = Data(bytes.readableBytesView)
        switch response.status.code {
        case 204: return nil
        case 200..<300: return try JSONDecoder().decode(Answer.self, from: data)
        default:
            let detail = try? JSONDecoder().decode(ErrorBody.self, from: data).error
            throw Failure(
                status: Int(response.status.code), code: detail?.code,
                message: detail?.message ?? "The server answered \(response.status.code) to \(path).")
        }
    }
}

extension String {
    var trimmingTrailingSlashes: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
