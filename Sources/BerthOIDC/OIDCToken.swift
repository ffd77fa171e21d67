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

/// The claims of a token, in the order a reader expects: the registered ones, then the account's
/// custom claims.
struct OIDCClaims: JWTPayload {
    let document: JSONValue

    init(
        iss: String, sub: String, aud: String, iat: Date, exp: Date, jti: String, custom: [(String, JSONValue)]
    ) {
        let issuedAt = JSONValue.number(iat.timeIntervalSince1970.rounded(.down))
        document = .object(
            [
                ("iss", .string(iss)), ("sub", .string(sub)), ("aud", .string(aud)), ("iat", issuedAt), ("nbf", issuedAt),
                ("exp", .number(exp.timeIntervalSince1970.rounded(.down))), ("jti", .string(jti)),
            ] + custom)
    }

    init(from decoder: any Decoder) throws {
        document = try JSONValue(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
    }

    /// Berth only signs; relying parties verify.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
