import AWSCore
import BerthDomain
import Foundation

/// Who the issuer is and how its keys live.
public struct OIDCIssuerConfiguration: Sendable {
    /// The issuer (`iss`): the server's public URL without a trailing slash, e.g.
    /// `https://berth.example.com`. Discovery and JWKS are served below it.
    public var issuer: String
    /// The algorithm of the first key, and of keys rotated by hand without one.
    public var defaultAlgorithm: SigningAlgorithm
    public var policy: OIDCKeyPolicy
    /// How often the rotation service looks at the keys.
    public var maintenanceInterval: Duration
    public var clock: any AWSClock

    public init(
        publicURL: String, defaultAlgorithm: SigningAlgorithm = .rs256, policy: OIDCKeyPolicy = OIDCKeyPolicy(),
        maintenanceInterval: Duration = .seconds(3600), clock: any AWSClock = SystemClock()
    ) throws {
        guard let components = URLComponents(string: publicURL), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else {
            throw BerthError(
                .validationFailed,
                "The public URL '\(publicURL)' is not an http(s) URL without query or fragment, e.g. https://berth.example.com.")
        }
        var issuer = publicURL
        while issuer.hasSuffix("/") { issuer.removeLast() }
        self.issuer = issuer
        self.defaultAlgorithm = defaultAlgorithm
        self.policy = policy
        self.maintenanceInterval = maintenanceInterval
        self.clock = clock
    }

    /// The issuer without its scheme: IAM's name for the provider and the prefix of its condition
    /// keys (`<host>:aud`, `<host>:sub`).
    public var providerHost: String {
        issuer.replacingOccurrences(of: #"^[a-zA-Z]+://"#, with: "", options: .regularExpression)
    }

    /// The host name of the public URL: the audience of accounts that do not set one.
    public var defaultAudience: String {
        URLComponents(string: issuer)?.host ?? providerHost
    }

    public var discoveryURL: String { issuer + "/.well-known/openid-configuration" }
    public var jwksURL: String { issuer + "/.well-known/jwks" }

    /// Why AWS would not accept this issuer, if it would not: it must be HTTPS (loopback aside, for
    /// trying Berth out).
    public var httpsWarning: String? {
        guard let components = URLComponents(string: issuer), components.scheme?.lowercased() != "https" else { return nil }
        let host = components.host ?? ""
        if host == "localhost" || host == "127.0.0.1" || host == "::1" || host.hasPrefix("127.") { return nil }
        return
            "The public URL \(issuer) is not HTTPS: AWS accepts OIDC tokens only from an HTTPS issuer, so OIDC accounts will fail. Serve Berth behind TLS and pass --public-url https://…"
    }
}
