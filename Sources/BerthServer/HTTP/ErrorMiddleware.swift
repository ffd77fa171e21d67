import BerthDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// Turns every error into `{"error": {"code", "message", "details"}}` with the right status, once,
/// at the edge. A request Berth cannot read is a 400 naming the field; only Berth's own failures
/// are 500s, logged without the request (which may carry a secret). A known path asked with a
/// method it does not have is a 405 with `Allow`.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    var routes = KnownRoutes()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
                return Self.response(for: Self.berthError(for: error))
            }
            var response = Self.response(
                for: BerthError(
                    .methodNotAllowed,
                    "\(request.uri.path) does not accept \(request.method.rawValue); it accepts \(allowed.joined(separator: ", "))."
                ))
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch {
            let berthError = Self.berthError(for: error)
            if berthError.code == .internalError {
                context.logger.error(
                    "Request failed",
                    metadata: ["http.path": "\(Self.loggablePath(request.uri.path))", "error": "\(Self.safeDescription(error))"])
            }
            return Self.response(for: berthError)
        }
    }

    /// A request's path as a log may carry it: a one-time login link's token is left out.
    static func loggablePath(_ path: String) -> String {
        guard let range = path.range(of: "/login/link/") else { return path }
        return path[..<range.upperBound] + "…"
    }

    static func berthError(for error: any Error) -> BerthError {
        switch error {
        case let error as BerthError:
            return error
        case let error as ServerError:
            if let inner = error.underlyingError as? BerthError { return inner }
            if error.operationInput == nil {
                return BerthError(.badRequest, "The request could not be read: \(requestProblem(error.underlyingError)).")
            }
            return BerthError(.internalError, "Berth failed to answer \(error.operationID); the server log has the details.")
        case let error as HTTPError:
            switch error.status {
            case .notFound: return BerthError(.notFound, "There is no such route. The API is described at /api/openapi.yaml.")
            case .unauthorized: return BerthError(.unauthorized, error.body ?? "An API key is required.")
            case .methodNotAllowed: return BerthError(.badRequest, "This route does not accept that HTTP method.")
            default:
                if error.status.code < 500 {
                    return BerthError(.badRequest, error.body ?? error.status.reasonPhrase)
                }
                return BerthError(.internalError, error.body ?? error.status.reasonPhrase)
            }
        case let error as DecodingError:
            return BerthError(.badRequest, "The request could not be read: \(describe(error)).")
        default:
            return BerthError(.internalError, "Berth failed to answer; the server log has the details.")
        }
    }

    static func status(for code: BerthError.Code) -> HTTPResponse.Status {
        switch code {
        case .validationFailed, .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .tooManyRequests: .tooManyRequests
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .methodNotAllowed: .methodNotAllowed
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }

    static func response(for error: BerthError) -> Response {
        let body: [String: Any] = [
            "error": [
                "code": error.code.rawValue, "message": error.message,
                "details": error.details.map { ["field": $0.field, "message": $0.message] },
            ] as [String: Any]
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if error.code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status(for: error.code), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// What was wrong with the request, without quoting its body.
    static func requestProblem(_ error: any Error) -> String {
        if let error = error as? DecodingError { return describe(error) }
        let text = String(describing: error)
        if text.contains("Unexpected content type") || text.contains("content type") {
            return "send the body as JSON with 'Content-Type: application/json'"
        }
        return "a parameter or the body does not match the API description (\(text.prefix(200)))"
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ extra: (any CodingKey)? = nil) -> String {
            let keys = (context.codingPath + (extra.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? key.stringValue
            }
            let joined = keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            return joined.isEmpty ? "the body" : "the field '\(joined)'"
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context, key)) is required"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(typeName(type))"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "\(path(context)) has a value that is not allowed (\(context.debugDescription))"
        @unknown default: return "the body does not match the API description"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is Date.Type: "a date-time"
        default: "\(type)".contains("Array") ? "an array" : "an object"
        }
    }

    /// ServerError's own description includes the request body; never log it.
    static func safeDescription(_ error: any Error) -> String {
        if let error = error as? ServerError {
            return "\(error.operationID): \(error.causeDescription): \(String(describing: error.underlyingError).prefix(500))"
        }
        return String(describing: error).prefix(500).description
    }
}
