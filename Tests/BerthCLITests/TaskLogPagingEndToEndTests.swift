import BerthDev
import BerthTestSupport
import Foundation
import Testing

@Suite("Long task logs end to end")
struct TaskLogPagingEndToEndTests {
    /// The numbers of the `count N` lines of a printed log, in the order printed.
    static func counted(_ output: String) -> [Int] {
        output.split(separator: "\n").compactMap { line in line.firstMatch(of: /count (\d+)$/).flatMap { Int($0.1) } }
    }

    @Test("deploy --wait, task log and task log --follow print a log of several pages: every line once, in order")
    func longLogsArePagedThrough() async throws {
        try await DeploymentEndToEndTests.withHarness { h in
            let projectFile = try h.write(
                "long.yaml",
                """
                name: Long
                steps:
                  - name: Count
                    type: run-aws-cli-script
                    properties:
                      region: eu-west-1
                      script: |
                        seq 1 2500 | sed 's/^/count /'
                """)
            let applied = try await h.berth(["project", "apply", "-f", projectFile])
            #expect(applied.status == 0, "\(applied.standardError)")
            #expect(try await h.berth(["release", "create", "--project", "Long", "--version", "1"]).status == 0)
            let deploy = try await h.berth([
                "deploy", "--project", "Long", "--release", "1", "--environment", "Production", "--wait",
            ])
            #expect(deploy.status == 0, "\(deploy.standardOutput.suffix(2000))\(deploy.standardError)")
            #expect(Self.counted(deploy.standardOutput) == Array(1...2500))
            let taskID = try #require(deploy.standardOutput.firstMatch(of: /\(task (task-[a-z0-9]+)\)/).map { String($0.1) })
            let log = try await h.berth(["task", "log", taskID])
            #expect(Self.counted(log.standardOutput) == Array(1...2500))
            let followed = try await h.berth(["task", "log", taskID, "--follow"])
            #expect(Self.counted(followed.standardOutput) == Array(1...2500))
        }
    }
}
