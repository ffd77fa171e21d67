import BerthDomain
import Foundation
import Testing

@testable import BerthServer

@Suite("The rollout chart")
struct RolloutChartTests {
    static func line(_ sequence: Int, _ seconds: Double, _ message: String, _ level: LogLevel = .info) -> TaskLogLine {
        TaskLogLine(
            sequence: sequence, time: Date(timeIntervalSince1970: 1_800_000_000 + seconds), level: level, message: message,
            section: "1. Deploy web · prod")
    }

    @Test("A rollout draws each revision's running and desired tasks and marks its end; names are escaped")
    func draws() throws {
        let lines = [
            Self.line(1, 0, "Waiting for web to run web:8."),
            Self.line(2, 1, "Rollout: web:8 PRIMARY 0/2 running, 2 pending · web<b>:7 ACTIVE 2/2 running", .verbose),
            Self.line(3, 5, "Rollout: web:8 PRIMARY 2/2 running · web<b>:7 ACTIVE 0/0 running", .verbose),
            Self.line(4, 6, "Done: the deployment is COMPLETED with 2 of 2 tasks running web:8."),
        ]
        let chart = try #require(RolloutChart(lines: lines))
        let svg = chart.svg
        #expect(svg.matches(of: /<polyline class="running/).count == 2 && svg.matches(of: /<polyline class="desired/).count == 2)
        #expect(svg.contains(#"class="ending completed""#) && svg.contains(">completed</text>"))
        #expect(svg.contains("web&lt;b&gt;:7") && !svg.contains("web<b>"), "a revision's name is text")
        #expect(svg.contains(">5 s</text>"), "the time axis spans the first snapshot to the end")
        let rolledBack = try #require(
            RolloutChart(lines: Array(lines.prefix(3)) + [Self.line(4, 7, "Rolled back: the circuit breaker…", .error)]))
        #expect(rolledBack.svg.contains(#"class="ending rolled-back""#) && rolledBack.svg.contains(">rolled back</text>"))
        #expect(RolloutChart(lines: [lines[0], lines[3]]) == nil, "no snapshots, no chart")
        // A script's output saying the same words is not the worker's snapshot.
        #expect(RolloutChart(lines: [Self.line(1, 0, "Rollout: web:9 PRIMARY 5/5 running")]) == nil)
    }
}
