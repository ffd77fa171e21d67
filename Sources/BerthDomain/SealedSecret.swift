/// A secret as Berth stores it: AES-256-GCM ciphertext, bound to the record and field it belongs to
/// (see `SecretBox` in BerthStore). The clear value never travels inside a domain value.
public struct SealedSecret: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `v1:` followed by base64 of nonce, ciphertext and tag.
    public var ciphertext: String

    public init(ciphertext: String) {
        self.ciphertext = ciphertext
    }

    public var description: String { "<sealed secret>" }
}
