/// The JWS algorithms Berth signs OIDC tokens with. AWS STS accepts both.
public enum SigningAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit key: what every relying party supports.
    case rs256 = "RS256"
    /// ECDSA on P-256 with SHA-256: smaller keys and tokens.
    case es256 = "ES256"
}
