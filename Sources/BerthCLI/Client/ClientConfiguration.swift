import Foundation

/// Where the CLI finds its server and API key: flags, then `BERTH_SERVER`/`BERTH_API_KEY`, then the
/// file `berth login` writes (`$BERTH_CONFIG`, else `$XDG_CONFIG_HOME/berth/config.json`, else
/// `~/.config/berth/config.json`, mode 0600).
struct ClientConfiguration: Codable, Equatable {
    var server: String
    var apiKey: String

    static func fileURL(environment: [String: String]) -> URL {
        if let explicit = environment["BERTH_CONFIG"], !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        return base.appendingPathComponent("berth/config.json")
    }

    static func load(environment: [String: String]) throws -> ClientConfiguration? {
        let url = fileURL(environment: environment)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(ClientConfiguration.self, from: Data(contentsOf: url))
        } catch {
            throw CLIFailure.usage(
                "The configuration file \(url.path) cannot be read (\(error.localizedDescription)); run `berth login` again.")
        }
    }

    /// Writes the file with mode 0600 from the start; the key is never readable by others.
    func save(environment: [String: String]) throws -> URL {
        let url = Self.fileURL(environment: environment)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        guard FileManager.default.createFile(atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CLIFailure("The configuration file \(url.path) cannot be written.")
        }
        return url
    }
}
