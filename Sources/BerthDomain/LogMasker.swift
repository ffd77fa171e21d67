import Foundation

/// Replaces every sensitive value in scope with `********` in text bound for a task log.
///
/// Octopus masks the literal value only; Berth also masks the forms a secret is commonly printed in
/// by accident — base64, base64url and percent-encoding — and never masks values of three characters
/// or fewer (masking "a" would make every log unreadable and tell the reader the secret anyway).
///
/// A log holds one line of output per entry, so a multi-line secret (a PEM key, a JSON document)
/// printed whole never appears whole in one entry: each of its lines is masked on its own (with and
/// without surrounding whitespace), as is each line of its base64 as `base64` (76 columns) and
/// `openssl base64` (64 columns) wrap it.
///
/// ```swift
/// let masker = LogMasker(secrets: [secretAccessKey])
/// log(masker.mask("export AWS_SECRET_ACCESS_KEY=\(secretAccessKey)"))  // …=********
/// ```
public struct LogMasker: Sendable, Hashable {
    public static let mask = "********"
    public static let minimumLength = 4

    private let secrets: [String]
    /// Longest first, so that a secret containing another is replaced whole.
    private let forms: [String]

    public init(secrets: [String] = []) {
        var forms = Set<String>()
        for secret in secrets where secret.count >= Self.minimumLength {
            forms.insert(secret)
            let base64 = Data(secret.utf8).base64EncodedString()
            forms.insert(base64)
            forms.insert(base64.trimmingCharacters(in: ["="]))
            forms.insert(Base64URL.encode(Data(secret.utf8)))
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { forms.insert(encoded) }
            for line in secret.split(whereSeparator: \.isNewline) {
                forms.insert(String(line))
                forms.insert(line.trimmingCharacters(in: .whitespaces))
            }
            for width in [64, 76] where base64.count > width {
                var rest = Substring(base64)
                while !rest.isEmpty {
                    forms.insert(String(rest.prefix(width)))
                    rest = rest.dropFirst(width)
                }
            }
        }
        self.secrets = secrets
        self.forms = forms.filter { $0.count >= Self.minimumLength }.sorted { $0.count > $1.count }
    }

    /// The same masker with more secrets.
    public func adding(_ secrets: [String]) -> LogMasker {
        LogMasker(secrets: self.secrets + secrets)
    }

    public var isEmpty: Bool { forms.isEmpty }

    public func mask(_ text: String) -> String {
        guard !forms.isEmpty else { return text }
        var result = text
        for form in forms where result.contains(form) {
            result = result.replacingOccurrences(of: form, with: Self.mask)
        }
        return result
    }
}
