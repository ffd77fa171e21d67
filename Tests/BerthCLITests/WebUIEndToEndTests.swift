import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// The web UI in a real headless Chromium (from Debian's packages, which `make test` installs),
/// driven by Selenium against a real `berth server --dev`: logging in, infrastructure forms, a
/// release deployed to the simulated ECS with its log followed live to "succeeded", the dashboard
/// following, a rollback, CSRF and a Viewer refused, a script-tag name shown as text
/// (`scripts/test-tools/browser_ui.py` lists every check). Screenshots of each page are left in
/// `.build/ui-screenshots/` of the checkout.
@Suite("Web UI in a browser")
struct WebUIEndToEndTests {
    static var screenshots: URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/",
            !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path)
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent(".build/ui-screenshots")
    }

    @Test(
        "A person logs in, sets up, releases, deploys and watches it live; a Viewer, a forged form and a script-tag name get nowhere"
    )
    func browser() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var environment = ["HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true"]
        environment["BERTH_MOTO_SERVER"] = ProcessInfo.processInfo.environment["BERTH_MOTO_SERVER"]
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: environment,
            arguments: ["--dev", "--deployment-poll-interval", "0.2"])
        for _ in 0..<300 where !server.log.contains("Demo data:") { try await Task.sleep(for: .milliseconds(100)) }
        try #require(server.log.contains("Demo data:"), "the demo was not seeded: \(server.log)")

        let link = try #require(
            server.log.firstMatch(of: /log in once with (\S+\/login\/link\/\S+)/).map { String($0.output.1) }, "\(server.log)")
        let run = try await BerthProcess.run(
            [PythonTools.script("browser_ui.py"), server.url, server.apiKey, Self.screenshots.path, link],
            environment: ProcessInfo.processInfo.environment, binary: try PythonTools.python(), timeLimit: .seconds(600))
        #expect(run.status == 0, "\(run.standardOutput)\(run.standardError)")
        #expect(run.standardOutput.contains("all browser checks held"), "\(run.standardOutput)")
        #expect(try await server.terminate() == 0)
    }
}
