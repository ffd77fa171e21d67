import BerthDomain
import Hummingbird
import NIOCore

/// Reads every request body into memory up to a cap (`--max-body-size`, default 4 MiB) before any
/// route sees it, and answers a larger one with 413: no route, the OpenAPI ones included, can be
/// made to buffer an unbounded body.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The largest body accepted, in bytes.
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maximumBytes {
            throw tooLarge
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        return try await next(request, context)
    }

    var tooLarge: BerthError {
        BerthError(
            .payloadTooLarge,
            "The request body is larger than \(ByteCountText.describe(maximumBytes)), the server's limit (--max-body-size).")
    }
}

extension BerthError.Code {
    /// 413: the request body is over the server's limit.
    static let payloadTooLarge = BerthError.Code(rawValue: "payload_too_large")
    /// 405: the path exists, the method does not.
    static let methodNotAllowed = BerthError.Code(rawValue: "method_not_allowed")
}

/// Byte counts as people read them: `4 MiB`, `512 KiB`, `100 bytes`.
enum ByteCountText {
    static func describe(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
