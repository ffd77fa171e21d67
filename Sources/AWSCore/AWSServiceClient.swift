/// A typed client of one AWS service, built on an `AWSClient` for that service.
public protocol AWSServiceClient: Sendable {
    /// The service this client calls.
    static var service: AWSServiceDescriptor { get }
    var client: AWSClient { get }
    /// Wraps `client`, which must be for `service`.
    init(client: AWSClient)
}

extension AWSServiceClient {
    /// A client for `region`, signing with `credentialProvider` (or unsigned when `nil`), honouring
    /// `AWS_ENDPOINT_URL*` in `environment`.
    public init(
        region: String, credentialProvider: (any CredentialProvider)?, environment: EnvironmentVariables = .process
    ) throws(AWSClientError) {
        self.init(
            client: try AWSClient(
                service: Self.service, region: region, credentialProvider: credentialProvider, environment: environment))
    }
}
