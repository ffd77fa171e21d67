import Foundation

/// An error answered by an AWS service: its code, message, request id and HTTP status.
///
/// ```swift
/// do { try await ecs.describeServices(input) }
/// catch let error as AWSError where error.code == .clusterNotFound { … }
/// ```
public struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: AWSErrorCode
    public let message: String
    public let requestID: String?
    public let statusCode: Int
    /// The service and operation that failed, e.g. "AWS STS AssumeRole".
    public let operation: String

    public init(code: AWSErrorCode, message: String, requestID: String?, statusCode: Int, operation: String) {
        self.code = code
        self.message = message
        self.requestID = requestID
        self.statusCode = statusCode
        self.operation = operation
    }

    public var description: String {
        var text = "\(operation) failed with \(code.rawValue) (HTTP \(statusCode))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestID { text += " [request id \(requestID)]" }
        return text
    }

    /// Whether the service asked the caller to slow down.
    public var isThrottling: Bool { AWSErrorCode.throttlingCodes.contains(code) || statusCode == 429 }
}

/// An AWS error code, kept verbatim; the common ones have names.
public struct AWSErrorCode: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let accessDenied: Self = "AccessDenied"
    public static let accessDeniedException: Self = "AccessDeniedException"
    public static let expiredToken: Self = "ExpiredToken"
    public static let expiredTokenException: Self = "ExpiredTokenException"
    public static let invalidClientTokenID: Self = "InvalidClientTokenId"
    public static let signatureDoesNotMatch: Self = "SignatureDoesNotMatch"
    public static let incompleteSignature: Self = "IncompleteSignature"
    public static let invalidIdentityToken: Self = "InvalidIdentityToken"
    public static let idpCommunicationError: Self = "IDPCommunicationError"
    public static let malformedPolicyDocument: Self = "MalformedPolicyDocument"
    public static let regionDisabled: Self = "RegionDisabledException"
    public static let validationError: Self = "ValidationError"
    public static let clusterNotFound: Self = "ClusterNotFoundException"
    public static let serviceNotFound: Self = "ServiceNotFoundException"
    public static let serviceNotActive: Self = "ServiceNotActiveException"
    public static let clientException: Self = "ClientException"
    public static let serverException: Self = "ServerException"
    public static let invalidParameter: Self = "InvalidParameterException"
    public static let resourceNotFound: Self = "ResourceNotFoundException"
    public static let throttling: Self = "Throttling"
    public static let throttlingException: Self = "ThrottlingException"
    public static let tooManyRequests: Self = "TooManyRequestsException"
    public static let requestLimitExceeded: Self = "RequestLimitExceeded"

    /// Codes the standard retry mode treats as throttling.
    public static let throttlingCodes: Set<AWSErrorCode> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
    ]

    /// Codes the standard retry mode treats as transient.
    public static let transientCodes: Set<AWSErrorCode> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
    ]

    /// Codes that mean the credentials themselves are wrong or stale.
    public static let credentialCodes: Set<AWSErrorCode> = [
        "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch",
        "UnrecognizedClientException", "InvalidAccessKeyId", "IncompleteSignature",
    ]

    /// Lets `case .clusterNotFound:` match an `AWSError` in a `switch`.
    public static func ~= (pattern: AWSErrorCode, error: any Error) -> Bool {
        (error as? AWSError)?.code == pattern
    }
}
