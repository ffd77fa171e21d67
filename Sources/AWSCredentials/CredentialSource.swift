import AWSCore
import AWSSTS
import AWSSigV4
import Foundation
import Logging

/// Everything a credential source may read: passed in, never looked up globally.
public struct CredentialContext: Sendable {
    public var environment: EnvironmentVariables
    /// The region of STS calls made while resolving (web identity, assume role). `nil`: us-east-1.
    public var region: String?
    /// A profile chosen explicitly (`--profile`); it replaces the environment-variable source.
    public var profile: String?
    public var transport: any HTTPTransport
    public var clock: any AWSClock
    public var logger: Logger

    public init(
        environment: EnvironmentVariables = .process, region: String? = nil, profile: String? = nil,
        transport: any HTTPTransport = AsyncHTTPTransport.shared, clock: any AWSClock = SystemClock(),
        logger: Logger = Logger(label: "berth.aws.credentials")
    ) {
        self.environment = environment
        self.region = region
        self.profile = profile
        self.transport = transport
        self.clock = clock
        self.logger = logger
    }

    /// The profile in effect: the explicit one, else `AWS_PROFILE`, else `default`.
    public var effectiveProfile: String {
        profile ?? environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
    }

    /// An STS client in the context's region, signed with `credentials` (or unsigned when `nil`).
    func sts(credentials: Credentials?) throws(AWSClientError) -> STSClient {
        let client = try AWSClient(
            service: .sts, region: region ?? "us-east-1",
            credentialProvider: credentials.map(StaticCredentialProvider.init), environment: environment,
            transport: transport, clock: clock, logger: logger)
        return STSClient(client: client)
    }
}

/// What a source found.
public enum CredentialSourceResult: Sendable {
    /// The source does not apply here (its variables are not set, its file does not exist, …).
    case skipped(reason: String)
    /// Credentials, with a short description of where they came from and, for sources built on
    /// other sources, the trace of those.
    case found(Credentials, detail: String, nested: CredentialTrace = CredentialTrace())
}

/// A source was configured but could not give credentials. The message must name the input that
/// is wrong and never contain a secret.
public struct CredentialSourceError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var awsErrorCode: AWSErrorCode?
    public var nested: CredentialTrace

    public init(_ message: String, awsErrorCode: AWSErrorCode? = nil, nested: CredentialTrace = CredentialTrace()) {
        self.message = message
        self.awsErrorCode = awsErrorCode
        self.nested = nested
    }

    public var description: String { message }

    /// Wraps any error from a call a source made.
    static func wrapping(_ error: any Error, while doing: String) -> CredentialSourceError {
        switch error {
        case let error as CredentialSourceError: return error
        case let error as AWSError: return CredentialSourceError("\(doing): \(error)", awsErrorCode: error.code)
        case let error as AWSClientError: return CredentialSourceError("\(doing): \(error.message)")
        case let error as CredentialResolutionError:
            return CredentialSourceError("\(doing): \(error.message)", awsErrorCode: error.awsErrorCode, nested: error.trace)
        default: return CredentialSourceError("\(doing): \(error)")
        }
    }
}

/// One place credentials can come from.
public protocol CredentialSource: Sendable {
    /// How the source appears in traces, e.g. "environment variables".
    var name: String { get }
    /// Looks for credentials. Throws `CredentialSourceError` when the source is configured but fails.
    func load(_ context: CredentialContext) async throws -> CredentialSourceResult
}

/// A session name for when none is given: unique enough to tell sessions apart in CloudTrail.
func generatedSessionName(_ context: CredentialContext) -> String {
    "berth-\(Int64(context.clock.now().timeIntervalSince1970 * 1000))"
}
