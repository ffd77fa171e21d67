import BerthDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One server at a time on an SQLite data directory: a lock file (`server.lock`, holding the pid)
/// kept with `flock` for as long as the server runs. A second server on the same directory would
/// share the node's name, take the first one's running tasks for its own previous run's and adopt
/// them while they run. The kernel drops the lock when its holder dies, so a killed server leaves
/// nothing to clean up. (On PostgreSQL, nodes are told apart by `--node-name` instead.)
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    static func acquire(_ directory: URL) throws(BerthError) -> DataDirectoryLock {
        let path = directory.appendingPathComponent("server.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BerthError(
                .internalError, "The lock file \(path) cannot be opened: \(String(cString: strerror(errno))).")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            // The pid only names the other server in the message; the refusal stands without it.
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw BerthError(
                .conflict,
                "Another berth server\(holder.map { $0.isEmpty ? "" : " (pid \($0))" } ?? "") is running on the data directory \(directory.path). Stop it first, or give this server a --data-dir of its own."
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 {
            _ = pid.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }
        return DataDirectoryLock(descriptor: descriptor)
    }

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }
}
