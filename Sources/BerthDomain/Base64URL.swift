import Foundation

/// Base64 with the URL alphabet and no padding (RFC 4648 §5, as JWS uses it): API keys, JWK
/// members, and the form of a secret that log masking also looks for.
public enum Base64URL {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
