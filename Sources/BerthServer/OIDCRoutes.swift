import BerthDomain
import BerthOIDC
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The identity provider's public face: discovery and the JWKS, anonymous, cacheable. AWS fetches
/// both; a JWKS that forbids caching makes STS refuse tokens under load, so it is cached for five
/// minutes (new keys are published a day before they sign; revocation reaches caches within that).
struct OIDCRoutes {
    let issuer: OIDCIssuer

    func register(on router: Router<BerthRequestContext>) {
        router.get("/.well-known/openid-configuration") { _, _ -> Response in
            json(issuer.discoveryDocument().rendered(), maxAge: 3600)
        }
        router.get("/.well-known/jwks") { _, _ -> Response in
            json(try await issuer.jwks().rendered(), maxAge: 300)
        }
    }

    private func json(_ text: String, maxAge: Int) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "public, max-age=\(maxAge)"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
