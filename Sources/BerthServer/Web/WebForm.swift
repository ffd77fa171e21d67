import Foundation
import Hummingbird
import NIOCore

/// A submitted HTML form (`application/x-www-form-urlencoded`): its fields in order, a name may
/// repeat (checkboxes, multi-selects).
struct WebForm: Sendable {
    let fields: [(name: String, value: String)]

    /// The form of `request`, read up to `limit` bytes.
    static func read(_ request: Request, limit: Int = 1 << 20) async throws -> WebForm {
        var request = request
        let body = try await request.collectBody(upTo: limit)
        return WebForm(encoded: String(buffer: body))
    }

    init(encoded: String) {
        fields = encoded.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), !name.isEmpty else { return nil }
            return (name, parts.count > 1 ? Self.decode(parts[1]) ?? "" : "")
        }
    }

    static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The field's first value, trimmed; nil when missing or blank.
    subscript(_ name: String) -> String? {
        guard let value = fields.first(where: { $0.name == name })?.value.trimmingCharacters(in: .whitespacesAndNewlines),
            !value.isEmpty
        else { return nil }
        return value
    }

    /// Every non-blank value of the field.
    func all(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map { $0.value.trimmingCharacters(in: .whitespacesAndNewlines) }.filter {
            !$0.isEmpty
        }
    }

    /// The field split into its non-blank lines or commas (a list typed in a text box).
    func list(_ name: String) -> [String] {
        all(name).flatMap { $0.split(whereSeparator: { $0 == "," || $0.isNewline }) }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }
}
