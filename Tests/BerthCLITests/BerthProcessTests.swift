import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// The runner every end-to-end test uses must never hang the suite.
@Suite("Running a child process in tests")
struct BerthProcessTests {
    @Test("Output larger than a pipe's buffer is read while the process runs")
    func largeOutput() async throws {
        let result = try await BerthProcess.run(["1", "100000"], environment: [:], binary: "/usr/bin/seq")
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count == 100_000)
        #expect(lines.last == "100000")
    }

    @Test("A process still running after its time limit is killed and reported with its command")
    func timeLimit() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: BerthProcess.TimedOut.self) {
            try await BerthProcess.run(["30"], environment: [:], binary: "/bin/sleep", timeLimit: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(error?.arguments == ["30"])
        #expect(error?.description.hasPrefix("berth 30 did not exit within 0.3 seconds") == true, "\(String(describing: error))")
    }
}
