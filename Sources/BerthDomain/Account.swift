import Foundation

/// A stored AWS identity: access keys, or an OpenID Connect role that Berth assumes with a token it
/// issues itself.
public struct Account: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case awsAccessKey = "aws-access-key"
        case awsOIDC = "aws-oidc"
    }

    /// The parts an OIDC subject claim may be built from (REFERENCE.md §1).
    public static let subjectKeyChoices = OIDCSubject.partOrder
    public static let defaultOIDCSessionDuration = 3600

    public var id: String
    public var spaceID: String
    public var kind: Kind
    public var name: String
    /// Derived from the name, never stored apart from it (the store keeps a copy for unique lookups).
    public var slug: String { Slug.make(name) }
    public var description: String
    /// Empty: usable in every environment.
    public var environmentIDs: [String]
    public var region: String?
    // aws-access-key
    public var accessKeyID: String?
    public var secretKey: SealedSecret?
    // aws-oidc
    public var roleARN: String?
    public var sessionDuration: Int?
    public var audience: String?
    public var subjectKeys: [String]
    public var customClaims: [String: String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String = RecordID.make("acct"), spaceID: String, kind: Kind, name: String, description: String = "",
        environmentIDs: [String] = [], region: String? = nil, accessKeyID: String? = nil, secretKey: SealedSecret? = nil,
        roleARN: String? = nil, sessionDuration: Int? = nil, audience: String? = nil, subjectKeys: [String] = [],
        customClaims: [String: String] = [:], createdAt: Date, updatedAt: Date? = nil
    ) {
        self.id = id
        self.spaceID = spaceID
        self.kind = kind
        self.name = name
        self.description = description
        self.environmentIDs = environmentIDs
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretKey = secretKey
        self.roleARN = roleARN
        self.sessionDuration = sessionDuration
        self.audience = audience
        self.subjectKeys = subjectKeys
        self.customClaims = customClaims
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// Whether the account may be used in `environmentID`.
    public func allows(environmentID: String) -> Bool {
        environmentIDs.isEmpty || environmentIDs.contains(environmentID)
    }
}

extension Account {
    /// The custom claims as they go into a token: a value written as a JSON object or array (AWS
    /// session tags under `https://aws.amazon.com/tags`) is embedded as JSON, anything else is a
    /// string. Sorted by name, so tokens are reproducible.
    public func customClaimValues() throws -> [(String, JSONValue)] {
        try customClaims.keys.sorted().map { name in
            (name, try Self.claimValue(customClaims[name] ?? "", name: name))
        }
    }

    /// The claim of a deployment's tokens that names who queued it, for whatever verifies the
    /// token against Berth's JWKS (IAM's own trust-policy conditions see only `aud` and `sub`).
    public static let deployedByClaim = "berth:deployed_by"

    /// The custom claims, and `berth:deployed_by` when the token is a deployment's — the
    /// server's, whatever an account's own claims say (an account cannot name another deployer).
    public func claimValues(deployedBy: String?) throws -> [(String, JSONValue)] {
        var claims = try customClaimValues().filter { $0.0 != Self.deployedByClaim }
        if let deployedBy { claims.append((Self.deployedByClaim, .string(deployedBy))) }
        return claims
    }

    static func claimValue(_ text: String, name: String) throws -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{") || trimmed.hasPrefix("[") else { return .string(text) }
        do {
            return try JSONValue.parse(trimmed)
        } catch let error as BerthError {
            throw BerthError(.validationFailed, "The custom claim '\(name)' looks like JSON but is not: \(error.message)")
        }
    }
}
