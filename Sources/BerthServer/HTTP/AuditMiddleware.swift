import BerthDomain
import BerthStore
import Crypto
import Foundation
import Hummingbird

/// Gives every request that may change something (POST, PUT, PATCH, DELETE of an operation of
/// `openapi.yaml`) its audit event: who, from where, which operation on which record, and what
/// was sent with its secrets replaced. The store writes it with the first change the request
/// makes, in the same transaction (``AuditTrail``); a request that changes nothing leaves none.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = BerthRequestContext
    let description: APIDescription
    let key: SymmetricKey

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        guard [.post, .put, .patch, .delete].contains(request.method),
            let (operation, _) = description.operation(request.method, requestPath: path)
        else { return try await next(request, context) }
        var request = request
        // In memory already: the validation before this read it, capped by the body limit.
        let body = try await request.collectBody(upTo: .max)
        let text = String(buffer: body)
        let details: JSONValue =
            text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            ? .object([]) : AuditEvent.redacted((try? JSONValue.parse(text)) ?? .string("(not JSON)"))
        let draft = AuditEvent(
            sequence: 0, occurredAt: Date(), actor: context.identity?.user.username, keyName: context.identity?.keyName,
            address: context.clientAddress, action: operation.operationID,
            record: String(path.dropFirst(APIDescription.prefix.count)),
            details: details)
        return try await AuditTrail.$pending.withValue(AuditTrail.Pending(draft: draft, key: key)) {
            try await next(request, context)
        }
    }
}
