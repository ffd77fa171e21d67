import BerthDomain
import BerthStore
import BerthUseCases
import Crypto
import Foundation
import Hummingbird

/// The web UI's cookies and its protection against cross-site requests.
///
/// The session cookie holds a random token (`HttpOnly`, `SameSite=Lax`, `Secure` under TLS); the
/// database keeps only its hash. Every form carries a CSRF token: an HMAC of the session token
/// under a key derived from the master key, so any node computes and checks it and no one can
/// make it without the session's cookie. The login form, before there is a session, is bound the
/// same way to a short-lived cookie of its own.
struct WebSessions: Sendable {
    static let sessionCookie = "berth_session"
    static let loginCookie = "berth_login"
    let key: SymmetricKey
    let secure: Bool

    init(secrets: SecretBox, secure: Bool) {
        key = secrets.derivedKey("berth web csrf v1")
        self.secure = secure
    }

    /// The CSRF token of a session (or login) token.
    func csrf(for token: String) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)))
    }

    /// Whether `given` is the CSRF token of `token` (compared in constant time).
    func check(_ given: String?, for token: String) -> Bool {
        let expected = Array(csrf(for: token).utf8)
        guard let given = given.map({ Array($0.utf8) }), given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func cookie(_ name: String, _ value: String, maxAge: Int, sameSite: Cookie.SameSite = .lax) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: sameSite)
    }

    func expired(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}
