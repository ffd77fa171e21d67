import BerthStore
import ServiceLifecycle

/// Closes the database last, after the HTTP server and the task runner have stopped, so that no
/// write is lost on SIGTERM.
struct StoreCloser: Service {
    let store: BerthStore
    /// Held until the store is closed (SQLite: one server per data directory).
    let lock: DataDirectoryLock?

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
        withExtendedLifetime(lock) {}
    }
}
