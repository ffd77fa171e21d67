import Foundation

/// Record identifiers: a readable prefix and 16 random base-32 characters, e.g. `env-k3q9…`.
public enum RecordID {
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")

    public static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
        return "\(prefix)-\(suffix)"
    }
}

/// URL- and claim-safe names: lower case letters, digits and single hyphens.
public enum Slug {
    public static func make(_ name: String) -> String {
        var slug = ""
        var pendingHyphen = false
        for scalar in name.lowercased().unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if pendingHyphen, !slug.isEmpty { slug.append("-") }
                pendingHyphen = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingHyphen = true
            }
        }
        return slug
    }
}

/// Rules for the display names of spaces, environments, accounts, targets, pools and keys.
public enum NameRules {
    public static let maximumLength = 200

    /// A trimmed, non-empty name of at most 200 characters, with a slug of at least one character.
    public static func validate(_ name: String, field: String = "name", into errors: inout ValidationErrors) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            errors.add(field, "is required")
        } else if trimmed.count > maximumLength {
            errors.add(field, "is \(trimmed.count) characters long; the limit is \(maximumLength)")
        } else if trimmed != name {
            errors.add(field, "has spaces at its start or end")
        } else if Slug.make(trimmed).isEmpty {
            errors.add(field, "'\(trimmed)' needs at least one letter or digit")
        } else if trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            errors.add(field, "contains control characters")
        }
    }
}
