import AWSCore
import Foundation

/// The AWS CLI's shared files: `~/.aws/config` (`[profile NAME]`, `[default]`) and
/// `~/.aws/credentials` (`[NAME]`), merged per profile with the credentials file winning.
public struct SharedConfigFiles: Sendable, Hashable {
    public var configPath: String
    public var credentialsPath: String
    /// Profile name → key → value. Keys are lower-cased.
    public var profiles: [String: [String: String]]
    /// Which of the two files exist, for traces.
    public var existingFiles: [String]

    /// Reads the files named by `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, or under `$HOME/.aws`.
    /// A missing file counts as empty; an unreadable or malformed one is an error naming the file and line.
    public static func load(_ environment: EnvironmentVariables) throws -> SharedConfigFiles {
        let home = environment["HOME"] ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            path.hasPrefix("~/") ? home + path.dropFirst(1) : path
        }
        let configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config")
        let credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
        var files = SharedConfigFiles(configPath: configPath, credentialsPath: credentialsPath, profiles: [:], existingFiles: [])
        for (path, isConfig) in [(configPath, true), (credentialsPath, false)] {
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw CredentialSourceError("Cannot read \(path): \((error as NSError).localizedDescription).")
            }
            files.existingFiles.append(path)
            for (profile, values) in try parse(text, path: path, isConfig: isConfig) {
                files.profiles[profile, default: [:]].merge(values) { _, new in new }
            }
        }
        return files
    }

    /// INI as the AWS CLI reads it: `#` and `;` comments, `key = value`, indented lines as nested
    /// settings (ignored here).
    static func parse(_ text: String, path: String, isConfig: Bool) throws -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        var inOtherSection = false
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if rawLine.first?.isWhitespace == true && (current != nil || inOtherSection) { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    throw CredentialSourceError("\(path) line \(index + 1): a section header must end with ']'.")
                }
                let header = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = nil
                inOtherSection = false
                if isConfig {
                    if header == "default" {
                        current = "default"
                    } else if header.hasPrefix("profile ") {
                        current = header.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces)
                    } else {
                        inOtherSection = true  // [sso-session …], [services …]
                    }
                } else {
                    current = header
                }
                if let current { profiles[current, default: [:]] = profiles[current] ?? [:] }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw CredentialSourceError("\(path) line \(index + 1): expected 'key = value' or a [section].")
            }
            guard !inOtherSection else { continue }
            guard let profile = current else {
                throw CredentialSourceError("\(path) line \(index + 1): a setting before any [profile] section.")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            for marker in [" #", " ;", "\t#", "\t;"] {
                if let range = value.range(of: marker) {
                    value = String(value[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
                }
            }
            profiles[profile, default: [:]][key] = value
        }
        return profiles
    }

    /// The `region` of a profile.
    public func region(profile: String) -> String? {
        profiles[profile]?["region"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var locations: String {
        "\(configPath) or \(credentialsPath)"
    }
}
