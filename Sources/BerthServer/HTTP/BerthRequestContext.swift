import BerthDomain
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore

/// The request context of every route: Hummingbird's core context plus the caller (the user of
/// the API key) that authenticated the request.
public struct BerthRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Caller?
    /// The client's IP address, when the connection has one (for counting failed logins).
    public var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        clientAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// The caller of the request being handled, for the handlers generated from the OpenAPI document
/// (which see only their input): set by ``CallerMiddleware`` after authentication.
public enum RequestCaller {
    @TaskLocal public static var current: Caller?
    /// The client's address, for the same handlers.
    @TaskLocal public static var address: String?
}

/// Makes the authenticated caller the request's ``RequestCaller/current``.
struct CallerMiddleware: RouterMiddleware {
    typealias Context = BerthRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try await RequestCaller.$current.withValue(context.identity) {
            try await RequestCaller.$address.withValue(context.clientAddress) { try await next(request, context) }
        }
    }
}
