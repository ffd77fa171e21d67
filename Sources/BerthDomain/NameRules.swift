import Foundation

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
