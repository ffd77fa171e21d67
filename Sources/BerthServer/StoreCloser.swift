import BerthStore
import ServiceLifecycle

/// Closes the database last, after the HTTP server and the task runner have stopped, so that no
/// write is lost on SIGTERM.
struct StoreCloser: Service {
    let store: BerthStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
