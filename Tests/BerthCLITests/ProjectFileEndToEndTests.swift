import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// A project file from someone else is read as an attacker would write it: its `file://`
/// references must not reach outside its folder, and a key Berth does not know is refused.
@Suite("Project files end to end")
struct ProjectFileEndToEndTests {
    @Test("file:// references resolve beside the project file and never leave its folder: '..', absolute paths, symlinks")
    func fileReferencesStayInTheFolder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-files-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("project")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("taskdefs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // A file of the user's, outside the project's folder, that a hostile project file reaches for.
        let secret = root.appendingPathComponent("credentials.json")
        try #"{"family": "stolen-0bf3c1", "containerDefinitions": []}"#.write(to: secret, atomically: true, encoding: .utf8)
        try #"{"family": "web", "containerDefinitions": [{"name": "web", "image": "shop/web:1"}]}"#.write(
            to: folder.appendingPathComponent("taskdefs/web.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("taskdefs/link.json"), withDestinationURL: secret)

        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: ["HOME": root.path])
        func apply(_ reference: String) async throws -> BerthProcess.Result {
            let file = folder.appendingPathComponent("project.yaml")
            try """
            name: Shop
            steps:
              - name: Deploy web
                type: deploy-ecs-service
                targetRoles: [web]
                properties:
                  serviceName: web
                  taskDefinition: \(reference)
            """.write(to: file, atomically: true, encoding: .utf8)
            // Run from elsewhere: references are relative to the project file, not to the working directory.
            return try await server.cli(["project", "apply", "-f", file.path])
        }

        let refusals = [
            ("file://../credentials.json", "goes up with '..'"),
            ("file://taskdefs/../../credentials.json", "goes up with '..'"),
            ("file://\(secret.path)", "is an absolute path"),
            ("file://taskdefs/link.json", "leads out of the project file's folder through a symbolic link"),
        ]
        for (reference, reason) in refusals {
            let refused = try await apply(reference)
            #expect(refused.status == 2, "\(reference): \(refused.standardOutput)")
            #expect(refused.standardError.contains("Step 1 ('Deploy web'): \(reference) \(reason)"), "\(refused.standardError)")
        }
        let projects = try await server.cli(["project", "list", "--output", "json"])
        #expect(!projects.standardOutput.contains("stolen-0bf3c1"))
        #expect(!server.log.contains("stolen-0bf3c1"))

        let applied = try await apply("file://taskdefs/web.json")
        #expect(applied.status == 0, "\(applied.standardError)")
        let shown = try await server.cli(["project", "show", "Shop", "--output", "json"])
        #expect(shown.standardOutput.contains("shop/web:1"), "\(shown.standardOutput)")
        #expect(try await server.terminate() == 0)
    }

    @Test("Unknown keys are refused with the closest known one: at the top, in a step, in a step's properties")
    func unknownKeys() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: ["HOME": root.path])
        func apply(top: String = "", step: String = "", property: String = "") async throws -> BerthProcess.Result {
            let file = root.appendingPathComponent("project.yaml")
            try """
            name: Shop
            \(top)
            steps:
              - name: Deploy web
                type: deploy-ecs-service
                targetRoles: [web]
                \(step)
                properties:
                  serviceName: web
                  taskDefinition: {family: web, containerDefinitions: [{name: web, image: "shop/web:1"}]}
                  \(property)
            """.write(to: file, atomically: true, encoding: .utf8)
            return try await server.cli(["project", "apply", "-f", file.path])
        }
        let top = try await apply(top: "varibles: []")
        #expect(top.status == 2)
        #expect(
            top.standardError.contains("unknown key 'varibles' at the top (did you mean variables?)"), "\(top.standardError)")
        let step = try await apply(step: "targetRole: [api]")
        #expect(step.status == 2)
        #expect(
            step.standardError.contains("unknown key 'targetRole' in step 1 ('Deploy web') (did you mean targetRoles?)"),
            "\(step.standardError)")
        let property = try await apply(property: "desiredCont: \"3\"")
        #expect(property.status == 2)
        #expect(
            property.standardError.contains(
                "step 'Deploy web' (deploy-ecs-service) has no property desiredCont (did you mean desiredCount?)"),
            "\(property.standardError)")
        #expect(try await server.cli(["project", "list", "--output", "json"]).standardOutput.contains("Shop") == false)
        #expect(try await apply(property: "desiredCount: \"3\"").status == 0)
        #expect(try await server.terminate() == 0)
    }
}
