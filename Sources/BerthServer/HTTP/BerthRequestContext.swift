import BerthDomain
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore

/// The request context of every route: Hummingbird's core context plus the API key that
/// authenticated the request.
public struct BerthRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIKey?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
    }
}
