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
            // ASCII letters and digits only; among ASCII, Unicode's Alphabetic property is exactly
            // A–Z and a–z, tested here without its table lookup (target listings slug every name).
            if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) {
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
