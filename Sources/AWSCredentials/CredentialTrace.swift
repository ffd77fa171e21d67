import AWSCore
import AWSSigV4
import Foundation

/// What happened to each credential source during one resolution: which was used, which were
/// skipped and why, which failed and why. Never holds a secret.
public struct CredentialTrace: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case used, skipped, failed
    }

    public struct Entry: Sendable, Hashable, Codable {
        /// The source, e.g. "environment variables", "IMDSv2 (http://169.254.169.254)".
        public var source: String
        public var outcome: Outcome
        /// Why it was skipped or failed, or what it yielded.
        public var detail: String

        public init(source: String, outcome: Outcome, detail: String) {
            self.source = source
            self.outcome = outcome
            self.detail = detail
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    public mutating func record(_ source: String, _ outcome: Outcome, _ detail: String) {
        entries.append(Entry(source: source, outcome: outcome, detail: detail))
    }

    public mutating func append(contentsOf other: CredentialTrace) {
        entries += other.entries
    }

    /// One line per source: `✓ environment variables: used (access key AKIA…)`.
    public var description: String {
        entries.map { entry in
            let mark =
                switch entry.outcome {
                case .used: "✓"
                case .skipped: "-"
                case .failed: "✗"
                }
            return "\(mark) \(entry.source): \(entry.outcome.rawValue) — \(entry.detail)"
        }.joined(separator: "\n")
    }
}

/// Shortens an access key id for traces: `AKIA…WXYZ`. Access key ids are not secret, but there is
/// no reason to print them whole either.
func abbreviated(_ accessKeyID: String) -> String {
    guard accessKeyID.count > 8 else { return accessKeyID }
    return "\(accessKeyID.prefix(4))…\(accessKeyID.suffix(4))"
}
