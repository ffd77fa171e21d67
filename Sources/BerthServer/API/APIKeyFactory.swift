import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// New API keys: `berth_` and 32 random bytes in base64url; only the hash is stored.
enum APIKeyFactory {
    static func make(name: String, at time: Date) -> (key: String, record: APIKey) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = APIKey.keyPrefix + Base64URL.encode(bytes)
        let record = APIKey(name: name, prefix: String(key.prefix(12)), hash: APIKeyCache.hash(key), createdAt: time)
        return (key, record)
    }
}
