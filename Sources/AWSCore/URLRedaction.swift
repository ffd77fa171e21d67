import Foundation

/// URLs as they may appear in messages and traces: a user name, password or query (which can carry
/// a token) is replaced by `***`.
public enum URLRedaction {
    public static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.host != nil else {
            // Not a URL we can take apart: show its scheme and host part only, if it has one.
            guard let schemeEnd = text.range(of: "://") else { return text.contains("@") ? "***" : text }
            let rest = text[schemeEnd.upperBound...]
            guard let at = rest.firstIndex(of: "@") else { return text }
            return String(text[..<schemeEnd.upperBound]) + "***" + rest[at...]
        }
        if components.user != nil || components.password != nil {
            components.user = "***"
            components.password = nil
        }
        if components.query != nil { components.percentEncodedQuery = "***" }
        return components.string ?? "***"
    }
}
