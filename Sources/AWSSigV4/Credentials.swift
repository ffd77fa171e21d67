import Foundation

/// An AWS access key pair, with a session token when the credentials are temporary.
///
/// The secret and the token never appear in `description`, `debugDescription` or string
/// interpolation, so a `Credentials` value that reaches a log line or an error message leaks nothing.
public struct Credentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-lived keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// Whether the credentials are still usable at `date`, keeping `margin` in reserve.
    public func isValid(at date: Date, margin: TimeInterval = 0) -> Bool {
        guard let expiration else { return true }
        return expiration.timeIntervalSince(date) > margin
    }

    public var description: String {
        var text = "Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(expiration)" }
        return text + ")"
    }

    public var debugDescription: String { description }
}
