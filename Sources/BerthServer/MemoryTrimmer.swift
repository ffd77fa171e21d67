import CMallocTuning
import ServiceLifecycle

/// Gives memory that a burst of work freed back to the system.
///
/// glibc's allocator keeps freed memory in its arenas for reuse, so a server that answered a burst
/// of large listings stays at its peak resident size long after it went idle. `limitArenas()` (at
/// start, before the threads get busy) caps the arenas; this service trims them every `interval`,
/// which costs well under a millisecond when there is nothing to give back.
public struct MemoryTrimmer: Service {
    public let interval: Duration

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Caps glibc's malloc arenas at `count` (the default is eight per core, each holding on to
    /// what its threads freed). Call once, first thing in `main`.
    @discardableResult
    public static func limitArenas(to count: Int = 2) -> Bool {
        berth_malloc_limit_arenas(Int32(count)) == 1
    }

    public func run() async throws {
        // Shutdown cancels the sleep; that is the normal end.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                _ = berth_malloc_trim()
            }
        }
    }
}
