import AWSSigV4
import Foundation
import Logging

/// Calls one AWS service in one region: signs each request, sends it, retries what the standard
/// retry mode retries, and turns error answers into `AWSError`.
///
/// The typed clients (`STSClient`, `ECSClient`, `CloudWatchLogsClient`) wrap one of these.
public struct AWSClient: Sendable {
    public let service: AWSServiceDescriptor
    public let endpoint: AWSEndpoint
    /// `nil` sends requests unsigned (as `AssumeRoleWithWebIdentity` must be).
    public let credentialProvider: (any CredentialProvider)?
    public let transport: any HTTPTransport
    public let retryPolicy: RetryPolicy
    public let retryQuota: RetryQuota
    public let clock: any AWSClock
    public let timeout: Duration
    public let logger: Logger
    public let userAgent: String
    let signerCache = SignerCache()

    /// - Parameters:
    ///   - region: the region to call; an unknown region throws `AWSClientError.invalidRegion`.
    ///   - environment: read for `AWS_ENDPOINT_URL*` only.
    public init(
        service: AWSServiceDescriptor,
        region: String,
        credentialProvider: (any CredentialProvider)?,
        environment: EnvironmentVariables = .process,
        transport: any HTTPTransport = AsyncHTTPTransport.shared,
        retryPolicy: RetryPolicy = .standard,
        retryQuota: RetryQuota = RetryQuota(),
        clock: any AWSClock = SystemClock(),
        timeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "berth.aws")
    ) throws(AWSClientError) {
        self.init(
            service: service,
            endpoint: try AWSEndpoint.resolve(service: service, region: region, environment: environment),
            credentialProvider: credentialProvider, transport: transport, retryPolicy: retryPolicy,
            retryQuota: retryQuota, clock: clock, timeout: timeout, logger: logger)
    }

    public init(
        service: AWSServiceDescriptor,
        endpoint: AWSEndpoint,
        credentialProvider: (any CredentialProvider)?,
        transport: any HTTPTransport = AsyncHTTPTransport.shared,
        retryPolicy: RetryPolicy = .standard,
        retryQuota: RetryQuota = RetryQuota(),
        clock: any AWSClock = SystemClock(),
        timeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "berth.aws")
    ) {
        self.service = service
        self.endpoint = endpoint
        self.credentialProvider = credentialProvider
        self.transport = transport
        self.retryPolicy = retryPolicy
        self.retryQuota = retryQuota
        self.clock = clock
        self.timeout = timeout
        self.logger = logger
        self.userAgent = "berth/\(BerthVersion.current)"
    }

    /// The same client with other credentials (or none).
    public func with(credentialProvider: (any CredentialProvider)?) -> AWSClient {
        AWSClient(
            service: service, endpoint: endpoint, credentialProvider: credentialProvider, transport: transport,
            retryPolicy: retryPolicy, retryQuota: retryQuota, clock: clock, timeout: timeout, logger: logger)
    }

    /// Sends a `POST /` with `body`, signed unless `signed` is false, and returns a 2xx answer.
    ///
    /// - Throws: `AWSError` for an error answer (after retries), `AWSClientError` when no answer came.
    public func send(
        operation: String, headers: [SigningRequest.Header], body: [UInt8], signed: Bool = true
    ) async throws -> AWSHTTPResponse {
        let path = endpoint.basePath.isEmpty ? "/" : endpoint.basePath + "/"
        let url =
            "\(endpoint.scheme)://\(SigningRequest.hostHeader(host: endpoint.host, port: endpoint.port, scheme: endpoint.scheme))\(path)"
        let payloadHash = SigV4Signer.payloadHash(body)
        var lastRetryCost: Int?
        var attempt = 1
        var refreshedExpiredCredentials = false
        while true {
            try Task.checkCancellation()
            var requestHeaders = headers
            requestHeaders.append(.init("User-Agent", userAgent))
            if signed, let credentialProvider {
                let credentials = try await credentialProvider.credentials()
                let signer = signerCache.signer(
                    for: credentials, region: endpoint.region.name, service: service.signingName)
                let signing = SigningRequest(
                    method: "POST",
                    host: SigningRequest.hostHeader(host: endpoint.host, port: endpoint.port, scheme: endpoint.scheme),
                    path: path, headers: requestHeaders, payloadHash: payloadHash)
                requestHeaders += signer.signedHeaders(for: signing, date: clock.now())
            }
            let request = AWSHTTPRequest(
                method: "POST", url: url, headers: requestHeaders.map { ($0.name, $0.value) }, body: body)

            let failure: any Error
            do {
                let response = try await transport.send(request, timeout: timeout)
                if response.isSuccess {
                    retryQuota.release(retryCost: lastRetryCost)
                    return response
                }
                failure = AWSErrorDecoder.decode(
                    response, protocol: service.wireProtocol, operation: "\(service.displayName) \(operation)")
            } catch let error as AWSClientError {
                failure = error
            }

            // Credentials that expired between resolution and use (a long deployment, a clock skew):
            // fetch fresh ones once and try again at once.
            if let error = failure as? AWSError, signed, let credentialProvider, !refreshedExpiredCredentials,
                error.code == .expiredToken || error.code == .expiredTokenException
            {
                refreshedExpiredCredentials = true
                logger.info("AWS credentials expired; refreshing and retrying", metadata: ["aws.operation": "\(operation)"])
                await credentialProvider.invalidate()
                continue
            }

            switch retryPolicy.decide(after: failure, attempt: attempt, quota: retryQuota) {
            case .retry(let delay, let cost):
                logger.debug(
                    "Retrying AWS call",
                    metadata: [
                        "aws.operation": "\(operation)", "aws.attempt": "\(attempt)",
                        "aws.error": "\(failure)", "aws.delay_ms": "\(Int(delay.timeInterval * 1000))",
                    ])
                lastRetryCost = cost
                attempt += 1
                try await clock.sleep(for: delay)
            case .doNotRetry:
                throw failure
            }
        }
    }
}

/// Berth's version, sent in the user agent.
public enum BerthVersion {
    public static let current = "0.1.0"
}
