import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import NIOCore
import NIOSSL

extension HTTPSettings {
    /// HTTP/1.1 in clear, or with TLS HTTP/1.1 and HTTP/2 (chosen by ALPN); both close a connection
    /// that stays idle for `idleTimeout`, and one whose request takes longer than `requestTimeout`
    /// to arrive.
    func serverBuilder() throws -> HTTPServerBuilder {
        let requestTimeout = TimeAmount.nanoseconds(Int64(requestTimeout / .nanoseconds(1)))
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)],
            idleTimeout: .nanoseconds(Int64(idleTimeout / .nanoseconds(1))))
        guard let tls else { return .http1(configuration: http1) }
        let certificates: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(tls.certificatePath)
        } catch {
            throw TLSFileError(flag: "--tls-certificate", path: tls.certificatePath, problem: "\(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: tls.keyPath, format: .pem)
        } catch {
            throw TLSFileError(flag: "--tls-key", path: tls.keyPath, problem: "\(error)")
        }
        guard !certificates.isEmpty else {
            throw TLSFileError(flag: "--tls-certificate", path: tls.certificatePath, problem: "it holds no PEM certificate")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
        return try .http2Upgrade(
            tlsConfiguration: configuration,
            configuration: .init(idleTimeout: idleTimeout, streamConfiguration: http1))
    }
}

/// A TLS file that cannot be used, named with the flag that gave it.
struct TLSFileError: Error, CustomStringConvertible {
    var flag: String
    var path: String
    var problem: String
    var description: String { "\(flag) \(path) cannot be used: \(problem)." }
}
