import AWSCore
import Logging
import ServiceLifecycle

/// Looks at the signing keys at a fixed interval: creates the next key a week before the current
/// one expires (published a day before it signs), erases private keys that can no longer sign.
public struct KeyRotationService: Service {
    let issuer: OIDCIssuer

    public init(issuer: OIDCIssuer) {
        self.issuer = issuer
    }

    public func run() async throws {
        let configuration = issuer.configuration
        // Shutdown cancels the sleep; that is the normal end, not a failure of the server.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await configuration.clock.sleep(for: configuration.maintenanceInterval)
                do {
                    try await issuer.maintain()
                } catch {
                    issuer.logger.error("OIDC key maintenance failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
