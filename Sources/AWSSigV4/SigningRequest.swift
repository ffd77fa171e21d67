import Foundation

/// The parts of an HTTP request that a SigV4 signature covers.
///
/// `path` is the path exactly as it goes on the wire (already percent-encoded); `query` holds the
/// decoded names and values, which the signer encodes itself.
public struct SigningRequest: Sendable, Hashable {
    public var method: String
    /// The `Host` header value: the host name, with `:port` when the port is not the scheme's default.
    public var host: String
    public var path: String
    public var query: [QueryItem]
    /// Headers in the order they are sent; a name may repeat.
    public var headers: [Header]
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String

    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(
        method: String, host: String, path: String = "/", query: [QueryItem] = [], headers: [Header] = [],
        payloadHash: String
    ) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    /// The host header value for a URL's host and port, leaving out the default port of the scheme.
    public static func hostHeader(host: String, port: Int?, scheme: String) -> String {
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        guard let port else { return bracketed }
        let isDefault = (scheme == "https" && port == 443) || (scheme == "http" && port == 80)
        return isDefault ? bracketed : "\(bracketed):\(port)"
    }
}
