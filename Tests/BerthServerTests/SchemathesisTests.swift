import BerthAPI
import BerthDev
import BerthServer
import BerthTestSupport
import Foundation
import HummingbirdTesting
import Testing

/// schemathesis (from the test virtual environment) against a real server: requests generated from
/// the OpenAPI document, valid and invalid, with its conformance checks on — no 5xx, every status,
/// content type, header and body as the document says, and what the document forbids refused.
/// Bounded to a minute and a half of fuzzing (valid and invalid data) over every operation.
/// `positive_data_acceptance` is left out: many valid-looking requests name records that do not
/// exist or combine members a rule forbids (an access key on an OIDC account), which the server
/// rightly refuses; the stateful checks need links the document does not declare.
@Suite("OpenAPI conformance (schemathesis)")
struct SchemathesisTests {
    @Test("schemathesis finds no disagreement between the document and the server")
    func conformance() async throws {
        let moto = try MotoServer.locateExecutable()
        let schemathesis = URL(fileURLWithPath: moto).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        try #require(
            FileManager.default.isExecutableFile(atPath: schemathesis),
            "No schemathesis beside \(moto): run `make venv` (requirements-test.txt installs it)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let document = directory.appendingPathComponent("openapi.yaml")
        try BerthAPIDocument.yaml().write(to: document)

        try await TestServer.with(configure: { $0.host = "127.0.0.1" }) { server in
            let port = try #require(server.client.port)
            /// One schemathesis run over the operations `selection` picks; fails the test on any finding.
            func run(_ selection: [String], maxTime: Int, authenticates: Bool = true) async throws {
                let result = try await BerthProcess.run(
                    [
                        // In the temporary directory, where schemathesis keeps its cache.
                        "-C", directory.path, schemathesis, "run", document.path, "--url", "http://127.0.0.1:\(port)/api",
                        "--header", "Authorization: Bearer \(server.key)", "--checks", "all", "--exclude-checks",
                        "positive_data_acceptance,use_after_free,ensure_resource_availability,ignored_auth,object_level_authorization",
                        "--phases", "examples,fuzzing", "--max-examples", "10", "--max-time", "\(maxTime)", "--workers", "2",
                        "--seed", "14", "--request-timeout", "60", "--max-response-time", "60", "--no-color",
                        "--generation-database", "none",
                        "--report-dir", directory.appendingPathComponent("report").path,
                    ] + selection,
                    environment: ["HOME": directory.path, "SCHEMATHESIS_TELEMETRY": "false"], binary: "/usr/bin/env",
                    timeLimit: .seconds(240))
                // Every selected operation was reached within the time budget.
                let selected = result.standardOutput.firstMatch(of: /Selected: (\d+)\//)?.1
                let tested = result.standardOutput.firstMatch(of: /Tested: (\d+)/)?.1
                #expect(selected != nil && tested == selected, "\(result.standardOutput.suffix(3000))")
                if authenticates { #expect(!result.standardOutput.contains("Authentication failed"), "\(selection)") }
                #expect(
                    result.status == 0,
                    "schemathesis found problems:\n\(result.standardOutput.suffix(12_000))\n\(result.standardError.suffix(2000))")
            }
            // Schemathesis reuses the ids it reads in responses: among the other operations it would
            // revoke every key it lists, its own included, and end its run with 401s.
            try await run(["--exclude-operation-id", "revokeApiKey", "--exclude-operation-id", "createSession"], maxTime: 90)
            // Logging in with made-up names and passwords answers 400, 401 or 429, as documented;
            // schemathesis calls every answer there an authentication failure.
            try await run(["--include-operation-id", "createSession"], maxTime: 15, authenticates: false)
            // Alone, it knows no id but what it makes up: the refusals are checked against the document.
            try await run(["--include-operation-id", "revokeApiKey"], maxTime: 15)
        }
    }
}
