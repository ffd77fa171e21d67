import BerthDomain
import Crypto
import CryptoExtras
import Foundation

/// A fresh key pair: the private key as PEM (PKCS#8) to seal, the public half as a JWK to publish.
struct GeneratedSigningKey: Sendable {
    var kid: String
    var privateKeyPEM: String
    var publicJWK: JSONValue
}

/// Makes signing keys: RSA 2048 for RS256, P-256 for ES256. The `kid` is the key's JWK thumbprint
/// (RFC 7638), so it names the key itself rather than a row.
enum SigningKeyGenerator {
    static func generate(_ algorithm: SigningAlgorithm) throws -> GeneratedSigningKey {
        switch algorithm {
        case .rs256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let primitives = try key.publicKey.getKeyPrimitives()
            let n = Base64URL.encode(primitives.modulus.drop { $0 == 0 })
            let e = Base64URL.encode(primitives.publicExponent.drop { $0 == 0 })
            let kid = thumbprint(#"{"e":"\#(e)","kty":"RSA","n":"\#(n)"}"#)
            let jwk = JSONValue.object([
                ("kty", .string("RSA")), ("use", .string("sig")), ("alg", .string(algorithm.rawValue)), ("kid", .string(kid)),
                ("n", .string(n)), ("e", .string(e)),
            ])
            return GeneratedSigningKey(kid: kid, privateKeyPEM: key.pemRepresentation, publicJWK: jwk)
        case .es256:
            let key = P256.Signing.PrivateKey()
            let point = key.publicKey.x963Representation.dropFirst()  // 0x04 || X || Y
            let x = Base64URL.encode(point.prefix(32))
            let y = Base64URL.encode(point.suffix(32))
            let kid = thumbprint(#"{"crv":"P-256","kty":"EC","x":"\#(x)","y":"\#(y)"}"#)
            let jwk = JSONValue.object([
                ("kty", .string("EC")), ("use", .string("sig")), ("alg", .string(algorithm.rawValue)), ("kid", .string(kid)),
                ("crv", .string("P-256")), ("x", .string(x)), ("y", .string(y)),
            ])
            return GeneratedSigningKey(kid: kid, privateKeyPEM: key.pemRepresentation, publicJWK: jwk)
        }
    }

    static func thumbprint(_ canonicalJWK: String) -> String {
        Base64URL.encode(Data(SHA256.hash(data: Data(canonicalJWK.utf8))))
    }
}
