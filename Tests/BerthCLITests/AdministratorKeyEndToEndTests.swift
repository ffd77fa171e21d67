import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// Locked out and back in: the last key cannot be revoked, and the server's machine can always
/// make a new administrator key from the data directory.
@Suite("Administrator keys end to end")
struct AdministratorKeyEndToEndTests {
    @Test("The last key is not revoked; reset-admin-key makes a key that works at once on the running server")
    func resetAdministratorKey() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-reset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let dataDirectory = root.appendingPathComponent("data")
        let server = try await BerthServerProcess.start(dataDirectory: dataDirectory, environment: ["HOME": root.path])

        let refused = try await server.cli(["apikey", "revoke", "administrator"])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("the last active administrator key"), "\(refused.standardError)")
        #expect(try await server.cli(["apikey", "list"]).status == 0, "the key still works")

        let reset = try await BerthProcess.run(
            ["server", "reset-admin-key", "--data-dir", dataDirectory.path], environment: ["HOME": root.path])
        #expect(reset.status == 0, "\(reset.standardOutput)\(reset.standardError)")
        let key = try #require(
            reset.standardOutput.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("berth_") }.map(String.init),
            "\(reset.standardOutput)")
        #expect(key != server.apiKey)
        let withNewKey = [
            "BERTH_SERVER": server.url, "BERTH_API_KEY": key, "BERTH_CONFIG": root.appendingPathComponent("none.json").path,
        ]
        let listed = try await BerthProcess.run(["apikey", "list", "--output", "json"], environment: withNewKey)
        #expect(listed.status == 0, "\(listed.standardError)")
        #expect(listed.standardOutput.contains("administrator (reset "), "\(listed.standardOutput)")
        // With the new key, the old one can go.
        let revoked = try await BerthProcess.run(["apikey", "revoke", "administrator"], environment: withNewKey)
        #expect(revoked.status == 0, "\(revoked.standardError)")

        let nowhere = try await BerthProcess.run(
            ["server", "reset-admin-key", "--data-dir", root.appendingPathComponent("elsewhere").path],
            environment: ["HOME": root.path])
        #expect(nowhere.status != 0)
        #expect(nowhere.standardError.contains("does not exist"), "\(nowhere.standardError)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("elsewhere").path))
        #expect(try await server.terminate() == 0)
    }
}
