import BerthWorker
import Synchronization
import Testing

@Suite("Calls of cancelled steps")
struct CleanupCallsTests {
    final class Record: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("A call handed over by a cancelled caller runs to its end in the service; without the service it runs in the caller")
    func cancelledCallerStillCalls() async throws {
        let cleanup = CleanupCalls()
        let record = Record()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await cleanup.run() }
            // Let the service start taking calls.
            try? await Task.sleep(for: .milliseconds(100))
            await withTaskGroup(of: Void.self) { callers in
                callers.addTask {
                    withUnsafeCurrentTask { $0?.cancel() }
                    await cleanup.perform {
                        // A cancelled task's sleep throws at once: this one runs outside the cancelled caller.
                        do {
                            try await Task.sleep(for: .milliseconds(50))
                            record.add("in the service")
                        } catch {
                            record.add("cut short")
                        }
                    }
                }
            }
            group.cancelAll()
        }
        #expect(record.all == ["in the service"])

        await CleanupCalls().perform { record.add("in the caller") }
        #expect(record.all == ["in the service", "in the caller"])
    }
}
