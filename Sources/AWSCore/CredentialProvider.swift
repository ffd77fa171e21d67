import AWSSigV4
import Foundation

/// Something that hands out AWS credentials: static keys, the credential chain, a cache.
public protocol CredentialProvider: Sendable {
    /// Credentials valid for at least a moment from now.
    func credentials() async throws -> Credentials
    /// Forgets cached credentials after AWS said they expired, so the next call fetches new ones.
    func invalidate() async
}

extension CredentialProvider {
    public func invalidate() async {}
}

/// A provider that always returns the same keys.
public struct StaticCredentialProvider: CredentialProvider {
    public let value: Credentials

    public init(_ value: Credentials) {
        self.value = value
    }

    public func credentials() async throws -> Credentials { value }
}
