import Foundation

/// What a node hands its built-in worker process (`berth worker builtin`) on standard input —
/// never on the command line or in the environment, which other processes may read: where the
/// server is, and the worker's credential.
public struct BuiltInWorkerHandoff: Codable, Sendable {
    /// The server's loopback URL.
    public var server: String
    public var credential: String
    public var name: String
    /// The server's TLS certificate (PEM) when it serves HTTPS: the worker trusts it for the
    /// loopback connection, whose address the certificate does not name.
    public var certificatePEM: String?

    public init(server: String, credential: String, name: String, certificatePEM: String? = nil) {
        self.server = server
        self.credential = credential
        self.name = name
        self.certificatePEM = certificatePEM
    }
}
