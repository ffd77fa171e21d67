import BerthDomain
import Foundation
import JWTKit

/// A token Berth issued, with what the log may show about it. The token itself is sensitive.
public struct OIDCToken: Sendable, CustomStringConvertible {
    public var token: String
    public var kid: String
    public var issuer: String
    public var subject: String
    public var audience: String
    public var issuedAt: Date
    public var expiresAt: Date
    public var tokenID: String

    public var description: String {
        "OIDCToken(sub: \(subject), aud: \(audience), kid: \(kid), token: <redacted>)"
    }
}

/// The claims of a token: the registered ones, then the account's custom claims.
struct OIDCClaims: JWTPayload {
    var iss: String
    var sub: String
    var aud: String
    var iat: Int64
    var nbf: Int64
    var exp: Int64
    var jti: String
    var custom: [(String, JSONValue)]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(iss, forKey: Key("iss"))
        try container.encode(sub, forKey: Key("sub"))
        try container.encode(aud, forKey: Key("aud"))
        try container.encode(iat, forKey: Key("iat"))
        try container.encode(nbf, forKey: Key("nbf"))
        try container.encode(exp, forKey: Key("exp"))
        try container.encode(jti, forKey: Key("jti"))
        for (name, value) in custom { try container.encode(value, forKey: Key(name)) }
    }

    init(
        iss: String, sub: String, aud: String, iat: Int64, nbf: Int64, exp: Int64, jti: String,
        custom: [(String, JSONValue)]
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.iat = iat
        self.nbf = nbf
        self.exp = exp
        self.jti = jti
        self.custom = custom
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        iss = try container.decode(String.self, forKey: Key("iss"))
        sub = try container.decode(String.self, forKey: Key("sub"))
        aud = try container.decode(String.self, forKey: Key("aud"))
        iat = try container.decode(Int64.self, forKey: Key("iat"))
        nbf = try container.decode(Int64.self, forKey: Key("nbf"))
        exp = try container.decode(Int64.self, forKey: Key("exp"))
        jti = try container.decode(String.self, forKey: Key("jti"))
        let registered: Set = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"]
        custom = try container.allKeys.filter { !registered.contains($0.stringValue) }.sorted { $0.stringValue < $1.stringValue }
            .map { ($0.stringValue, try container.decode(JSONValue.self, forKey: $0)) }
    }

    /// Berth only signs; relying parties verify.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
