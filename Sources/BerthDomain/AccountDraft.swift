import AWSRules
import Foundation

/// The fields of an account as a caller sends them, before they are checked and sealed.
public struct AccountDraft: Sendable {
    public var kind: Account.Kind
    public var name: String
    public var description: String
    public var region: String?
    public var accessKeyID: String?
    /// The clear secret, only between the request and `SecretBox.seal`.
    public var secretKey: String?
    public var roleARN: String?
    public var sessionDuration: Int?
    public var audience: String?
    public var subjectKeys: [String]
    public var customClaims: [String: String]

    public init(
        kind: Account.Kind, name: String, description: String = "", region: String? = nil, accessKeyID: String? = nil,
        secretKey: String? = nil, roleARN: String? = nil, sessionDuration: Int? = nil, audience: String? = nil,
        subjectKeys: [String] = [], customClaims: [String: String] = [:]
    ) {
        self.kind = kind
        self.name = name
        self.description = description
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretKey = secretKey
        self.roleARN = roleARN
        self.sessionDuration = sessionDuration
        self.audience = audience
        self.subjectKeys = subjectKeys
        self.customClaims = customClaims
    }

    /// Every rule of REFERENCE.md §1 and §3 that can be checked without the store. Secrets are never
    /// repeated in a message.
    /// - Parameter secretIsStored: an update may leave out the secret key that the account already has.
    public func validate(secretIsStored: Bool = false) throws(BerthError) {
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        if description.count > 2000 { errors.add("description", "is longer than 2000 characters") }
        if let region { errors.check("region") { _ = try Region(region) } }
        switch kind {
        case .awsAccessKey:
            if let accessKeyID {
                if !(16...128).contains(accessKeyID.count)
                    || !accessKeyID.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) })
                {
                    errors.add(
                        "accessKeyId",
                        "'\(accessKeyID)' is not an AWS access key id (16 to 128 upper-case letters and digits, such as AKIAIOSFODNN7EXAMPLE)"
                    )
                }
            } else {
                errors.add("accessKeyId", "is required for an aws-access-key account")
            }
            if let secretKey {
                if secretKey.isEmpty || secretKey.contains(where: \.isWhitespace) {
                    errors.add(
                        "secretKey", "must not be empty or contain spaces or line breaks (\(secretKey.count) characters given)")
                }
            } else if !secretIsStored {
                errors.add("secretKey", "is required for an aws-access-key account")
            }
            for (field, value) in [("roleArn", roleARN as Any?), ("sessionDuration", sessionDuration), ("audience", audience)]
            where value != nil {
                errors.add(field, "applies to aws-oidc accounts only")
            }
        case .awsOIDC:
            if let roleARN {
                errors.check("roleArn") { try STSValidation.roleARN(roleARN) }
            } else {
                errors.add("roleArn", "is required for an aws-oidc account: the IAM role that Berth's tokens may assume")
            }
            if let sessionDuration { errors.check("sessionDuration") { try STSValidation.duration(sessionDuration) } }
            if let audience, audience.isEmpty || audience.count > 255 { errors.add("audience", "must be 1 to 255 characters") }
            for key in subjectKeys where !Account.subjectKeyChoices.contains(key) {
                errors.add(
                    "subjectKeys", "'\(key)' is not a subject part; use \(Account.subjectKeyChoices.joined(separator: ", "))")
            }
            for key in customClaims.keys where key.isEmpty || ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"].contains(key) {
                errors.add("customClaims", "'\(key)' cannot be a custom claim")
            }
            for (key, value) in customClaims.sorted(by: { $0.key < $1.key }) {
                errors.check("customClaims") { _ = try Account.claimValue(value, name: key) }
            }
            for (field, value) in [("accessKeyId", accessKeyID), ("secretKey", secretKey)] where value != nil {
                errors.add(field, "applies to aws-access-key accounts only")
            }
        }
        try errors.throwIfAny("\(kind.rawValue) account")
    }
}
