import BerthAPI
import BerthDomain
import BerthStore
import Foundation
import OpenAPIRuntime

/// A task's log as server-sent events (`streamTaskLog`): the lines after `after` as `line` events,
/// then new ones as the database gets them (read every `interval`, so any node's lines arrive), a
/// comment every 15 seconds of silence so proxies keep the connection, and an `end` event once the
/// task has finished and its last line is sent. The response writer pulls the events: the stream
/// lives in the request's own task and ends with it. A connection lasts at most `lifetime`: the
/// client (a browser's EventSource does it by itself) connects again with `Last-Event-ID`, and so
/// shows its credentials again — a revoked key or an ended session stops following within it.
struct TaskLogEvents: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let store: BerthStore
    let taskID: String
    let after: Int
    var interval: Duration = .milliseconds(100)
    var keepAlive: Duration = .seconds(15)
    var lifetime: Duration = .seconds(300)
    /// How often the task itself is read to see whether it has ended (its lines every `interval`).
    var stateInterval: Duration = .seconds(1)

    func makeAsyncIterator() -> Iterator {
        Iterator(events: self, after: after)
    }

    struct Iterator: AsyncIteratorProtocol {
        let events: TaskLogEvents
        var after: Int
        var ended = false
        var lastSent = ContinuousClock.now
        let opened = ContinuousClock.now
        var stateRead = ContinuousClock.now - .seconds(3600)

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard !ended else { return nil }
            while !Task.isCancelled {
                // Time to show the credentials again: the client reconnects from the last line.
                guard ContinuousClock.now - opened < events.lifetime else { return nil }
                let page = try await events.store.taskLog(taskID: events.taskID, after: after, limit: 500)
                if let last = page.lines.last {
                    after = last.sequence
                    lastSent = .now
                    return ArraySlice(try page.lines.map(Self.event).joined().utf8)
                }
                guard ContinuousClock.now - stateRead >= events.stateInterval else {
                    try await Task.sleep(for: events.interval)
                    continue
                }
                stateRead = .now
                guard let task = try await events.store.task(id: events.taskID) else { return nil }
                if task.state.isFinished {
                    // Lines written just before the task finished were read above or are read now.
                    let rest = try await events.store.taskLog(taskID: events.taskID, after: after, limit: 500)
                    if let last = rest.lines.last {
                        after = last.sequence
                        return ArraySlice(try rest.lines.map(Self.event).joined().utf8)
                    }
                    ended = true
                    return ArraySlice(try Self.end(task).utf8)
                }
                if ContinuousClock.now - lastSent >= events.keepAlive {
                    lastSent = .now
                    return ArraySlice(": still running\n\n".utf8)
                }
                try await Task.sleep(for: events.interval)
            }
            return nil
        }

        static func event(_ line: TaskLogLine) throws -> String {
            let data = try JSONEncoder.events.encode(Components.Schemas.TaskLogLine(line))
            return "id: \(line.sequence)\nevent: line\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        }

        static func end(_ task: ServerTask) throws -> String {
            let data = try JSONEncoder.events.encode(Components.Schemas.ServerTask(task, spaceName: nil))
            return "event: end\ndata: \(String(decoding: data, as: UTF8.self))\n\n"
        }
    }
}

extension JSONEncoder {
    /// One line of JSON per event, with ISO 8601 dates.
    static let events: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()
}
