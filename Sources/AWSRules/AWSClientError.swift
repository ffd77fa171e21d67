import Foundation

/// A failure on Berth's side of the wire: configuration, connection, or an answer that cannot be
/// read. Failures that AWS reports are `AWSError`.
public struct AWSClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, matchable code.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidRegion = Code(rawValue: "InvalidRegion")
        public static let invalidEndpoint = Code(rawValue: "InvalidEndpoint")
        public static let connectionFailed = Code(rawValue: "ConnectionFailed")
        public static let timedOut = Code(rawValue: "TimedOut")
        public static let invalidResponse = Code(rawValue: "InvalidResponse")
        public static let invalidRequest = Code(rawValue: "InvalidRequest")
        public static let noCredentials = Code(rawValue: "NoCredentials")
        public static let invalidConfiguration = Code(rawValue: "InvalidConfiguration")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
