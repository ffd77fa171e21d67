import AWSRules
import Foundation

/// How long keys and tokens live, and how early keys are published before they sign.
public struct OIDCKeyPolicy: Sendable, Hashable {
    /// How long a key signs at most (90 days, as Octopus).
    public var keyLifetime: Duration
    /// How long before its expiry the next key is created.
    public var rotateBefore: Duration
    /// How long an automatically rotated key is published before it signs: longer than any
    /// relying party caches the JWKS.
    public var publishLead: Duration
    /// How long a manually rotated key is published before it signs, unless the caller says.
    public var manualRotationLead: Duration
    /// The lifetime of a token (`exp` − `iat`).
    public var tokenLifetime: Duration
    /// Slack for relying parties whose clocks run behind: a retired key stays published this much
    /// longer than its last token's expiry.
    public var clockSkew: Duration

    public init(
        keyLifetime: Duration = .seconds(90 * 86_400), rotateBefore: Duration = .seconds(7 * 86_400),
        publishLead: Duration = .seconds(86_400), manualRotationLead: Duration = .seconds(600),
        tokenLifetime: Duration = .seconds(300), clockSkew: Duration = .seconds(60)
    ) {
        self.keyLifetime = keyLifetime
        self.rotateBefore = rotateBefore
        self.publishLead = publishLead
        self.manualRotationLead = manualRotationLead
        self.tokenLifetime = tokenLifetime
        self.clockSkew = clockSkew
    }

    /// When a key that starts signing at `activatesAt` stops.
    public func expiry(activatingAt activatesAt: Date) -> Date {
        activatesAt.addingTimeInterval(keyLifetime.timeInterval)
    }
}
