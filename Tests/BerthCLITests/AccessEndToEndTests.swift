import BerthTestSupport
import Foundation
import Testing

/// People and permissions through the CLI: an administrator makes a developer who may deploy to
/// Development only, and the developer tries more.
@Suite("Users, teams and permissions end to end")
struct AccessEndToEndTests {
    @Test(
        "A Deployer team limited to Development: whoami says so, Production is refused naming the permission, Development is queued; a disabled user's key answers 401 at once; the last System administrator cannot be disabled"
    )
    func deployerLimitedToDevelopment() async throws {
        let root = try ServerEndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: ["HOME": root.path])
        func admin(_ arguments: [String]) async throws -> BerthProcess.Result {
            let result = try await server.cli(arguments)
            #expect(result.status == 0, "\(arguments): \(result.standardOutput)\(result.standardError)")
            return result
        }
        for environment in ["Development", "Production"] { _ = try await admin(["environment", "create", environment]) }
        let project = root.appendingPathComponent("web.yaml")
        try """
        name: web
        steps:
          - {name: Hello, type: run-aws-cli-script, properties: {script: "echo hello"}}
        """.write(to: project, atomically: true, encoding: .utf8)
        _ = try await admin(["project", "apply", "-f", project.path])
        _ = try await admin(["release", "create", "--project", "web", "--version", "1"])

        _ = try await admin(["user", "create", "dev", "--display-name", "Dana Developer", "--email", "dana@example.com"])
        _ = try await admin(["team", "create", "developers"])
        _ = try await admin(["team", "add-member", "developers", "dev"])
        let granted = try await admin(["team", "grant", "developers", "Deployer", "--environment", "Development"])
        #expect(granted.standardOutput.contains("Deployer in default, environments Development"), "\(granted.standardOutput)")
        let link = try await admin(["user", "login-link", "dev"])
        #expect(link.standardOutput.contains("A login link for dev (works once, until "), "\(link.standardOutput)")
        #expect(link.standardOutput.contains("\(server.url)/login/link/berthl_"), "\(link.standardOutput)")
        let created = try await admin(["apikey", "create", "dev-laptop", "--user", "dev"])
        let key = try #require(created.standardOutput.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("berth_") })
        func dev(_ arguments: [String]) async throws -> BerthProcess.Result {
            try await BerthProcess.run(
                arguments,
                environment: [
                    "BERTH_SERVER": server.url, "BERTH_API_KEY": String(key),
                    "BERTH_CONFIG": root.appendingPathComponent("dev-login.json").path,
                ])
        }

        let whoami = try await dev(["whoami"])
        #expect(whoami.status == 0, "\(whoami.standardError)")
        #expect(
            whoami.standardOutput.contains("dev (Dana Developer), key 'dev-laptop'; teams: developers"),
            "\(whoami.standardOutput)")
        #expect(whoami.standardOutput.contains("server: (none)"), "\(whoami.standardOutput)")
        #expect(
            whoami.standardOutput.contains("space default: SpaceView, ProjectView, ReleaseCreate, DeploymentCreate, TaskCancel"),
            "\(whoami.standardOutput)")

        let production = try await dev(["deploy", "--project", "web", "--release", "1", "--environment", "Production"])
        #expect(production.status != 0)
        #expect(
            production.standardError.contains(
                "The user 'dev' (key 'dev-laptop') may not do this: it needs DeploymentCreate for Production"),
            "\(production.standardError)")
        let development = try await dev(["deploy", "--project", "web", "--release", "1", "--environment", "Development"])
        #expect(development.status == 0, "\(development.standardError)")
        // Who deployed is recorded: on the task and in the deployment listing.
        let taskID = try #require(
            development.standardOutput.firstMatch(of: /task (task-[a-z0-9]+)/)?.output.1, "\(development.standardOutput)")
        let shown = try await admin(["task", "show", String(taskID)])
        #expect(shown.standardOutput.contains("Queued by    dev\n"), "\(shown.standardOutput)")
        let listed = try await admin(["deployment", "list", "--output", "json"])
        #expect(try ServerEndToEndTests.array(listed).first?["deployedBy"] as? String == "dev", "\(listed.standardOutput)")
        // Nor may the developer change who may do what, or their own rights.
        let escalate = try await dev(["team", "grant", "developers", "Space manager"])
        #expect(escalate.status != 0 && escalate.standardError.contains("needs TeamManage"), "\(escalate.standardError)")

        _ = try await admin(["user", "disable", "dev"])
        let disabled = try await dev(["whoami"])
        #expect(disabled.status != 0)
        #expect(disabled.standardError.contains("The API key's user 'dev' is disabled"), "\(disabled.standardError)")

        let last = try await server.cli(["user", "disable", "administrator"])
        #expect(last.status != 0)
        #expect(last.standardError.contains("it would leave no active System administrator"), "\(last.standardError)")
        #expect(try await server.cli(["whoami"]).status == 0)

        // A lifecycle: release 2 goes to Production only after Development.
        let lifecycle = try await admin(["lifecycle", "create", "Standard", "--phase", "Development", "--phase", "Production"])
        #expect(
            lifecycle.standardOutput.contains("Development (Development) → Production (Production)"),
            "\(lifecycle.standardOutput)")
        try """
        name: web
        lifecycle: Standard
        steps:
          - {name: Hello, type: run-aws-cli-script, properties: {script: "echo hello"}}
        """.write(to: project, atomically: true, encoding: .utf8)
        _ = try await admin(["project", "apply", "-f", project.path])
        _ = try await admin(["release", "create", "--project", "web", "--version", "2"])
        let early = try await server.cli(["deploy", "--project", "web", "--release", "2", "--environment", "Production"])
        #expect(early.status != 0)
        #expect(
            early.standardError.contains(
                "the phase 'Development' of the lifecycle 'Standard' needs 1 more successful deployment"),
            "\(early.standardError)")
        let releases = try await admin(["release", "list", "--project", "web"])
        #expect(releases.standardOutput.contains("MAY GO TO"), "\(releases.standardOutput)")
        let ordered = try await admin(["deploy", "--project", "web", "--release", "2", "--environment", "Development", "--wait"])
        #expect(ordered.status == 0, "\(ordered.standardError)")
        let after = try await admin(["deploy", "--project", "web", "--release", "2", "--environment", "Production", "--wait"])
        #expect(after.status == 0, "\(after.standardError)")

        // A manual intervention answered from the CLI.
        let gate = root.appendingPathComponent("gate.yaml")
        try """
        name: gate
        steps:
          - {name: Sign-off, type: manual-intervention, properties: {instructions: "Look first.", responsibleTeams: [Administrators]}}
        """.write(to: gate, atomically: true, encoding: .utf8)
        _ = try await admin(["project", "apply", "-f", gate.path])
        _ = try await admin(["release", "create", "--project", "gate", "--version", "1"])
        let waiting = try await admin(["deploy", "--project", "gate", "--release", "1", "--environment", "Development"])
        let gateTask = try #require(waiting.standardOutput.firstMatch(of: /task (task-[a-z0-9]+)/)?.output.1)
        var asked = false
        for _ in 0..<1200 where !asked {
            asked = try await admin(["task", "log", String(gateTask)]).standardOutput.contains("berth task approve \(gateTask)")
            if !asked { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(asked, "the deployment did not ask within 120 s")
        let approved = try await admin(["task", "approve", String(gateTask), "--note", "fine"])
        #expect(approved.standardOutput.contains("Approved: Deploy gate 1 to Development goes on."), "\(approved.standardOutput)")
        let followed = try await server.cli(["task", "log", String(gateTask), "--follow"])
        #expect(
            followed.status == 0 && followed.standardOutput.contains("Approved by administrator: fine"),
            "\(followed.standardOutput)")
        _ = try await server.terminate()
    }
}
