import Foundation

/// Timestamps as the AWS Query protocol and credential endpoints write them.
public enum AWSTimestamp {
    /// Parses `2026-11-22T10:30:05Z`, with or without fractional seconds.
    public static func parseISO8601(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try? Date(trimmed, strategy: fractional)
    }

    public static func formatISO8601(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
