import BerthDomain
import Crypto
import Foundation

/// The AES-256 key that seals every secret. It lives outside the database: a 0600 file in the data
/// directory, or `BERTH_MASTER_KEY` (base64 of 32 bytes).
public struct MasterKey: Sendable {
    public static let fileName = "master.key"
    public static let environmentVariable = "BERTH_MASTER_KEY"

    let key: SymmetricKey

    public init(base64: String, source: String) throws(BerthError) {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32
        else {
            throw BerthError(
                .badRequest,
                "The master key in \(source) is not base64 of 32 bytes. Generate one with: head -c 32 /dev/urandom | base64")
        }
        key = SymmetricKey(data: data)
    }

    /// A new random key.
    public static func generate() -> (key: MasterKey, base64: String) {
        let key = SymmetricKey(size: .bits256)
        let base64 = key.withUnsafeBytes { Data($0).base64EncodedString() }
        // The generated text always parses.
        return (try! MasterKey(base64: base64, source: "a new key"), base64)
    }

    /// The key from `BERTH_MASTER_KEY`, or the data directory's key file, created (mode 0600) when
    /// neither exists. A key file that others can read is refused.
    public static func loadOrCreate(dataDirectory: URL, environment: [String: String]) throws(BerthError) -> (
        key: MasterKey, created: Bool
    ) {
        if let value = environment[environmentVariable] {
            return (try MasterKey(base64: value, source: environmentVariable), false)
        }
        let url = dataDirectory.appendingPathComponent(fileName)
        let path = url.path
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path) {
            let attributes = try? fileManager.attributesOfItem(atPath: path)
            if let mode = (attributes?[.posixPermissions] as? NSNumber)?.uint16Value, mode & 0o077 != 0 {
                throw BerthError(
                    .badRequest,
                    "The master key file \(path) can be read by other users (mode \(String(mode, radix: 8))). Run: chmod 600 \(path)"
                )
            }
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw BerthError(.badRequest, "The master key file \(path) cannot be read.")
            }
            return (try MasterKey(base64: text, source: path), false)
        }
        let (key, base64) = generate()
        // Create with 0600 from the start, so the key is never readable by others, not even briefly.
        guard fileManager.createFile(atPath: path, contents: Data((base64 + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw BerthError(.badRequest, "The master key file \(path) cannot be created; is the data directory writable?")
        }
        return (key, true)
    }
}
