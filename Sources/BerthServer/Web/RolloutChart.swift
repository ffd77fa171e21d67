import BerthDomain
import Foundation

/// The rollout chart of a service step on the task page: running tasks (solid) and desired tasks
/// (dashed) of each revision over time, from the rollout snapshots the worker writes into the
/// log (``RolloutSnapshot``), with the moment the rollout completed or was rolled back marked.
/// Drawn on the server as SVG; every text in it is escaped.
struct RolloutChart {
    struct Sample {
        var time: Date
        var snapshot: RolloutSnapshot
    }

    enum Ending {
        case completed, rolledBack, failed
    }

    var samples: [Sample]
    var ending: (time: Date, kind: Ending)?

    /// The chart of one log section, when it has rollout snapshots.
    init?(lines: [TaskLogLine]) {
        // Only the worker's own verbose lines: a script printing "Rollout: …" draws nothing.
        samples = lines.compactMap { line in
            line.level == .verbose ? RolloutSnapshot.parse(line.message).map { Sample(time: line.time, snapshot: $0) } : nil
        }
        guard !samples.isEmpty else { return nil }
        let last = samples[samples.count - 1].time
        for line in lines where line.time >= last {
            if line.message.hasPrefix("Done:") {
                ending = (line.time, .completed)
            } else if line.message.hasPrefix("Rolled back") {
                ending = (line.time, .rolledBack)
            } else if line.level == .error, ending == nil {
                ending = (line.time, .failed)
            }
        }
    }

    static let width = 640.0
    static let height = 200.0
    static let left = 34.0
    static let right = 12.0
    static let top = 12.0
    static let bottom = 40.0

    var svg: String {
        let start = samples[0].time
        let end = max(samples[samples.count - 1].time, ending?.time ?? start, start.addingTimeInterval(1))
        let span = end.timeIntervalSince(start)
        let highest = max(1, samples.flatMap(\.snapshot.revisions).map { max($0.running, $0.desired) }.max() ?? 1)
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        func x(_ time: Date) -> Double { Self.left + plotWidth * time.timeIntervalSince(start) / span }
        func y(_ count: Int) -> Double { Self.top + plotHeight * (1 - Double(count) / Double(highest)) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        var names: [String] = []
        for sample in samples {
            for revision in sample.snapshot.revisions where !names.contains(revision.name) { names.append(revision.name) }
        }
        var parts: [String] = [
            #"<svg class="rollout" viewBox="0 0 \#(Int(Self.width)) \#(Int(Self.height))" role="img" aria-label="Running and desired tasks of each revision over time">"#
        ]
        // Axes: counts on the left, seconds along the bottom.
        for count in Set([0, highest / 2, highest]).sorted() {
            parts.append(
                #"<line class="grid" x1="\#(number(Self.left))" x2="\#(number(Self.width - Self.right))" y1="\#(number(y(count)))" y2="\#(number(y(count)))"/>"#
            )
            parts.append(
                #"<text class="axis" x="\#(number(Self.left - 6))" y="\#(number(y(count) + 4))" text-anchor="end">\#(count)</text>"#
            )
        }
        parts.append(
            #"<text class="axis" x="\#(number(Self.width - Self.right))" y="\#(number(Self.height - Self.bottom + 14))" text-anchor="end">\#(Int(span.rounded())) s</text>"#
        )
        for (index, name) in names.enumerated() {
            var running: [String] = []
            var desired: [String] = []
            var previous: (running: Int, desired: Int)?
            for sample in samples {
                guard let revision = sample.snapshot.revisions.first(where: { $0.name == name }) else { continue }
                let at = x(sample.time)
                // Steps: a count holds until the next sample changes it.
                if let previous {
                    running.append("\(number(at)),\(number(y(previous.running)))")
                    desired.append("\(number(at)),\(number(y(previous.desired)))")
                }
                running.append("\(number(at)),\(number(y(revision.running)))")
                desired.append("\(number(at)),\(number(y(revision.desired)))")
                previous = (revision.running, revision.desired)
            }
            if let previous {
                running.append("\(number(x(end))),\(number(y(previous.running)))")
                desired.append("\(number(x(end))),\(number(y(previous.desired)))")
            }
            let series = "rev\(index % 4)"
            parts.append(#"<polyline class="desired \#(series)" points="\#(desired.joined(separator: " "))"/>"#)
            parts.append(#"<polyline class="running \#(series)" points="\#(running.joined(separator: " "))"/>"#)
            let legendX = Self.left + Double(index) * 190
            parts.append(
                #"<rect class="swatch \#(series)" x="\#(number(legendX))" y="\#(number(Self.height - 16))" width="10" height="10"/>"#
            )
            parts.append(
                #"<text class="legend" x="\#(number(legendX + 14))" y="\#(number(Self.height - 7))">\#(Self.escape(name)) (dashed: desired)</text>"#
            )
        }
        if let ending {
            let label =
                switch ending.kind {
                case .completed: "completed"
                case .rolledBack: "rolled back"
                case .failed: "failed"
                }
            let kind = ending.kind == .completed ? "completed" : "rolled-back"
            parts.append(
                #"<line class="ending \#(kind)" x1="\#(number(x(ending.time)))" x2="\#(number(x(ending.time)))" y1="\#(number(Self.top))" y2="\#(number(Self.height - Self.bottom))"/>"#
            )
            parts.append(
                #"<text class="ending \#(kind)" x="\#(number(x(ending.time) - 4))" y="\#(number(Self.top + 10))" text-anchor="end">\#(label)</text>"#
            )
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
