import AWSSigV4
import Foundation

/// Something that hands out AWS credentials: static keys, the credential chain, a cache.
public protocol CredentialProvider: Sendable {
    /// Credentials valid for at least a moment from now.
    func credentials() async throws -> Credentials
}

/// A provider that always returns the same keys.
public struct StaticCredentialProvider: CredentialProvider {
    public let value: Credentials

    public init(_ value: Credentials) {
        self.value = value
    }

    public func credentials() async throws -> Credentials { value }
}
