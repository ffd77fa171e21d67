import Foundation

/// The rules STS applies to its inputs, checked before a call so that mistakes are named clearly.
public enum STSValidation {
    /// `arn:<partition>:iam::<12 digits>:role/<path/>name`.
    public static func roleARN(_ arn: String) throws(AWSClientError) {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let valid =
            parts.count == 6 && parts[0] == "arn" && Partition.all.contains { $0.id == parts[1] } && parts[2] == "iam"
            && parts[3].isEmpty && parts[4].count == 12 && parts[4].allSatisfy(\.isNumber) && parts[5].hasPrefix("role/")
            && parts[5].count > 5
        guard valid else {
            throw AWSClientError(
                .invalidRequest,
                "The role ARN '\(arn)' is not an IAM role ARN; it should look like arn:aws:iam::123456789012:role/Deployer.")
        }
    }

    /// 2–64 characters of letters, digits and `+=,.@_-`.
    public static func sessionName(_ name: String) throws(AWSClientError) {
        guard (2...64).contains(name.count),
            name.unicodeScalars.allSatisfy({ isWordCharacter($0) || "+=,.@-".unicodeScalars.contains($0) })
        else {
            throw AWSClientError(
                .invalidRequest,
                "The role session name '\(name)' is not valid: use 2 to 64 characters of letters, digits and +=,.@_-.")
        }
    }

    /// 900–43200 seconds.
    public static func duration(_ seconds: Int) throws(AWSClientError) {
        guard (900...43_200).contains(seconds) else {
            throw AWSClientError(
                .invalidRequest,
                "The session duration \(seconds) s is out of range: AWS accepts 900 to 43200 seconds (15 minutes to 12 hours), and no more than the role's maximum."
            )
        }
    }

    /// 2–1224 characters of letters, digits and `+=,.@:/_-`. The value itself is not repeated in the
    /// message: an external ID is a shared secret between the caller and the role's owner.
    public static func externalID(_ value: String) throws(AWSClientError) {
        guard (2...1224).contains(value.count),
            value.unicodeScalars.allSatisfy({ isWordCharacter($0) || "+=,.@:/-".unicodeScalars.contains($0) })
        else {
            throw AWSClientError(
                .invalidRequest,
                "The external ID is not valid: use 2 to 1224 characters of letters, digits and +=,.@:/_- (it has \(value.count) characters)."
            )
        }
    }

    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
    }
}
