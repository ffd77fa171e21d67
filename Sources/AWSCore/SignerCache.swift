import AWSSigV4
import Synchronization

/// The signer of a client's current credentials. A signer keeps the key it derived for the day,
/// which costs four HMACs; making a new signer per request would derive it again every time.
final class SignerCache: Sendable {
    private let current = Mutex<SigV4Signer?>(nil)

    /// The cached signer when `credentials` are still the same, else a new one (which is kept).
    func signer(for credentials: Credentials, region: String, service: String) -> SigV4Signer {
        current.withLock { current in
            if let signer = current, signer.credentials == credentials, signer.region == region,
                signer.service == service
            {
                return signer
            }
            let signer = SigV4Signer(credentials: credentials, region: region, service: service)
            current = signer
            return signer
        }
    }
}
