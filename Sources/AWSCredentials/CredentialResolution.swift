import AWSCore
import AWSSigV4

/// Credentials together with the trace of how they were found.
public struct CredentialResolution: Sendable, Hashable {
    public var credentials: Credentials
    public var trace: CredentialTrace
    /// The source that produced the credentials, e.g. "profile 'deploy' (assume role …)".
    public var source: String

    public init(credentials: Credentials, trace: CredentialTrace, source: String) {
        self.credentials = credentials
        self.trace = trace
        self.source = source
    }
}

/// No credentials could be resolved. The message names the failing source, the trace says what
/// every source did.
public struct CredentialResolutionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var trace: CredentialTrace
    /// The AWS error code when a service call failed (e.g. AccessDenied from AssumeRole).
    public var awsErrorCode: AWSErrorCode?

    public init(message: String, trace: CredentialTrace, awsErrorCode: AWSErrorCode? = nil) {
        self.message = message
        self.trace = trace
        self.awsErrorCode = awsErrorCode
    }

    public var description: String { message }
}
