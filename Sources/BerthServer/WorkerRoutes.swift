import BerthDomain
import BerthEngine
import BerthStore
import BerthWorker
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore

/// The job protocol (``JobProtocol``) under `/api/worker`: outside the user API and its API keys.
/// Registration takes a pool's registration token; everything else a worker's own credential,
/// which in turn opens nothing of the user API.
struct WorkerRoutes {
    let jobs: StepJobService
    let maximumBodyBytes: Int
    /// The audit chain's key: a worker's registration is an audit event.
    let auditKey: SymmetricKey

    func register(on router: Router<BerthRequestContext>) {
        let base = JobProtocol.basePath
        router.post("\(base)/register") { request, context -> Response in
            let body = try await decode(JobProtocol.RegisterRequest.self, from: request)
            // Its actor is the worker: no user, the name it registers under (never the token).
            let event = AuditEvent(
                sequence: 0, occurredAt: Date(), actor: nil, keyName: nil, address: context.clientAddress,
                action: "registerWorker", record: "workers",
                details: .object([("name", .string(body.name)), ("pool", .string(body.pool)), ("version", .string(body.version))])
            )
            let registered = try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: event, key: auditKey)) {
                try await jobs.register(body)
            }
            return try json(registered, status: .created)
        }
        router.post("\(base)/jobs/claim") { request, _ -> Response in
            let worker = try await authenticate(request)
            let body = try await decode(JobProtocol.ClaimRequest.self, from: request)
            guard let claimed = try await jobs.claim(for: worker, body) else { return Response(status: .noContent) }
            var response = try json(claimed)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.post("\(base)/jobs/:job/log") { request, context -> Response in
            let worker = try await authenticate(request)
            let body = try await decode(JobProtocol.LogRequest.self, from: request)
            return try json(try await jobs.appendLog(try jobID(context), worker: worker, lines: body.lines))
        }
        router.post("\(base)/jobs/:job/progress") { request, context -> Response in
            let worker = try await authenticate(request)
            let body = try await decode(JobProtocol.ProgressRequest.self, from: request)
            try await jobs.recordProgress(try jobID(context), worker: worker, progress: body.progress)
            return Response(status: .noContent)
        }
        router.post("\(base)/jobs/:job/lock") { request, context -> Response in
            let worker = try await authenticate(request)
            let body = try await decode(JobProtocol.LockRequest.self, from: request)
            return try json(try await jobs.lock(try jobID(context), worker: worker, body))
        }
        router.post("\(base)/jobs/:job/ask") { request, context -> Response in
            let worker = try await authenticate(request)
            let body = try await decode(JobProtocol.AskRequest.self, from: request)
            return try json(try await jobs.ask(try jobID(context), worker: worker, body))
        }
        router.post("\(base)/jobs/:job/token") { request, context -> Response in
            let worker = try await authenticate(request)
            var response = try json(try await jobs.token(try jobID(context), worker: worker))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.post("\(base)/jobs/:job/outcome") { request, context -> Response in
            let worker = try await authenticate(request)
            let body = try await decode(JobProtocol.OutcomeRequest.self, from: request)
            try await jobs.finish(try jobID(context), worker: worker, outcome: body.outcome)
            return Response(status: .noContent)
        }
    }

    func authenticate(_ request: Request) async throws -> Worker {
        guard let credential = request.headers.bearer?.token else {
            throw BerthError(.unauthorized, "The job protocol needs a worker's credential: 'Authorization: Bearer <credential>'.")
        }
        return try await jobs.authenticate(credential.trimmingCharacters(in: .whitespaces))
    }

    func jobID(_ context: BerthRequestContext) throws -> String {
        try context.parameters.require("job")
    }

    func decode<Body: Decodable>(_ type: Body.Type, from request: Request) async throws -> Body {
        let buffer = try await request.body.collect(upTo: maximumBodyBytes)
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw BerthError(
                .badRequest,
                "The request body is not a valid \(Body.self): \(ErrorMiddleware<BerthRequestContext>.describe(error))")
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value))))
    }
}
