import BerthAPI
import BerthDomain
import Foundation

/// Follows tasks through the API until they end.
struct TaskFollower {
    let client: BerthClient
    let format: OutputFormat
    var interval: Duration = .milliseconds(250)

    /// How long a follower keeps trying a server it cannot reach (a node restarting, a load
    /// balancer moving to another node) before it gives up.
    var patience: Duration = .seconds(60)

    /// `call` again while the server cannot be reached, for at most `patience`, saying so once.
    func retryingUnreachable<Output>(_ call: () async throws -> Output) async throws -> Output {
        let started = ContinuousClock.now
        var said = false
        while true {
            do {
                return try await call()
            } catch let failure as CLIFailure where failure.exitCode == BerthExitCode.unreachable {
                guard ContinuousClock.now - started < patience else { throw failure }
                if !said {
                    FileHandle.standardError.write(
                        Data("\(failure.message); trying again for up to \(patience.components.seconds) s.\n".utf8))
                    said = true
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    func task(_ id: String) async throws -> Components.Schemas.ServerTask {
        switch try await client.call({ try await $0.getTask(path: .init(task: id)) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw BerthClient.failure(status, error)
        }
    }

    func log(_ id: String, after: Int) async throws -> Components.Schemas.TaskLog {
        switch try await client.call({ try await $0.getTaskLog(path: .init(task: id), query: .init(after: after)) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw BerthClient.failure(status, error)
        }
    }

    /// The whole log as it is now, page after page.
    func allLines(_ id: String) async throws -> [Components.Schemas.TaskLogLine] {
        var lines: [Components.Schemas.TaskLogLine] = []
        while true {
            let page = try await log(id, after: lines.last?.sequence ?? 0)
            lines += page.lines
            if !page.hasMore || page.lines.isEmpty { return lines }
        }
    }

    /// Prints the log as it grows (table) or the finished task and log (json); fails unless the
    /// task succeeded. The log comes a page at a time: pages that say more follow are read at once.
    func follow(_ id: String) async throws {
        var last = 0
        var lines: [Components.Schemas.TaskLogLine] = []
        /// Reads pages until the server has no more lines now; the state of the last page.
        func readAvailable() async throws -> Components.Schemas.TaskState {
            while true {
                let page = try await retryingUnreachable { try await log(id, after: last) }
                for line in page.lines {
                    if format == .table { print(TaskPrinter.line(line)) }
                    lines.append(line)
                    last = max(last, line.sequence)
                }
                if !page.hasMore || page.lines.isEmpty { return page.state }
            }
        }
        while true {
            if Self.isFinished(try await readAvailable()) {
                // Lines written in the closing transaction arrive with the final state.
                _ = try await readAvailable()
                let finished = try await retryingUnreachable { try await task(id) }
                if format == .json { print(try Output.json(TaskWithLog(task: finished, log: lines))) }
                guard finished.state == .succeeded else {
                    throw CLIFailure(
                        "Task \(finished.id) \(ServerTask.State(rawValue: finished.state.rawValue)?.phrase ?? finished.state.rawValue): \(finished.errorMessage ?? "see its log")",
                        exitCode: Self.exitCode(finished.state))
                }
                return
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Waits until every task has ended and returns them in the given order.
    func waitForAll(_ ids: [String]) async throws -> [Components.Schemas.ServerTask] {
        var finished: [String: Components.Schemas.ServerTask] = [:]
        while finished.count < ids.count {
            var listed = Set<String>()
            switch try await retryingUnreachable({ try await client.call({ try await $0.listTasks(query: .init(limit: 1000)) }) })
            {
            case .ok(let ok):
                for task in try ok.body.json.items where ids.contains(task.id) {
                    listed.insert(task.id)
                    if Self.isFinished(task.state) { finished[task.id] = task }
                }
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
            // Tasks older than the most recent 1000 are asked for one by one.
            for id in ids where finished[id] == nil && !listed.contains(id) {
                let current = try await retryingUnreachable { try await task(id) }
                if Self.isFinished(current.state) { finished[id] = current }
            }
            if finished.count < ids.count { try await Task.sleep(for: interval) }
        }
        return ids.compactMap { finished[$0] }
    }

    /// The exit code that says how a task ended.
    static func exitCode(_ state: Components.Schemas.TaskState) -> Int32 {
        switch state {
        case .succeeded, .queued, .executing: BerthExitCode.success
        case .failed: BerthExitCode.failure
        case .rolledBack: BerthExitCode.rolledBack
        case .timedOut: BerthExitCode.timedOut
        case .cancelled: BerthExitCode.cancelled
        }
    }

    static func isFinished(_ state: Components.Schemas.TaskState) -> Bool {
        state != .queued && state != .executing
    }
}
