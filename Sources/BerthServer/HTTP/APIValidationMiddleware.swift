import BerthDomain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Holds every `/api` request to the OpenAPI document before its handler runs: path and query
/// parameters and the JSON body are checked against the document's schemas (so what the document
/// says is what the server enforces), and an empty body is read as `{}` where every member of the
/// body is optional.
struct APIValidationMiddleware<Context: RequestContext>: RouterMiddleware {
    let description: APIDescription

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let (operation, parts) = description.operation(request.method, requestPath: request.uri.path) else {
            return try await next(request, context)
        }
        var errors = ValidationErrors()
        for parameter in operation.pathValues(parts) {
            SchemaValidator.validateParameter(parameter.value, against: parameter.schema, name: parameter.name, into: &errors)
        }
        let query = request.uri.queryParameters
        for parameter in operation.queryParameters {
            if let value = query[parameter.name[...]] {
                SchemaValidator.validateParameter(
                    String(value), against: parameter.schema, name: parameter.name, into: &errors)
            }
        }
        var request = request
        if let schema = operation.body {
            // The body is already in memory, capped by `BodyLimitMiddleware`.
            let buffer = try await request.collectBody(upTo: .max)
            let bytes = Data(buffer.readableBytesView)
            if bytes.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
                if schema.acceptsEmptyObject {
                    var head = request.head
                    head.headerFields[.contentType] = "application/json"
                    head.headerFields[.contentLength] = "2"
                    request = Request(head: head, body: .init(buffer: ByteBuffer(string: "{}")))
                } else if schema.type == "object" {
                    SchemaValidator.validate(.object([:]), against: schema, at: "", into: &errors)
                }
            } else {
                // A body this check cannot read is refused, not passed on unchecked: the generated
                // decoder skips members it does not know, so an unreadable one would hide the rest.
                guard let value = try? JSONDecoder().decode(RequestJSON.self, from: bytes) else {
                    throw BerthError(
                        .badRequest,
                        "The request body is not a JSON document Berth can read (malformed, or a number out of range).")
                }
                SchemaValidator.validate(value, against: schema, at: "", into: &errors)
            }
        }
        try errors.throwIfAny("request")
        return try await next(request, context)
    }
}
