import AWSSigV4
import BerthDomain
import Crypto
import Foundation

/// New API keys: `berth_` and 32 random bytes in base64url; only the hash is stored.
public enum APIKeyFactory {
    public static func make(name: String, at time: Date) -> (key: String, record: APIKey) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = APIKey.keyPrefix + Base64URL.encode(bytes)
        let record = APIKey(name: name, prefix: String(key.prefix(12)), hash: hash(key), createdAt: time)
        return (key, record)
    }

    /// The stored form of a key: SHA-256, in hex.
    public static func hash(_ key: String) -> String {
        // Hashed on every request that carries a key: hex without String(format:), which cost
        // a twentieth of a busy listing's time.
        SHA256.hash(data: Data(key.utf8)).hexString
    }
}
