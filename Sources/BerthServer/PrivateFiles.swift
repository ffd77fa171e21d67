import BerthDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The data directory and the SQLite files hold the master key and every sealed secret: no other
/// user of the machine (a script's user among them) may read them. Berth creates them private and
/// refuses to start on ones that others can read, saying which `chmod` to run.
enum PrivateFiles {
    /// Creates the data directory (mode 0700), or checks that an existing one is private.
    static func prepareDataDirectory(_ url: URL) throws(BerthError) {
        let path = url.path
        if let mode = mode(of: path) {
            if let owner = owner(of: path), owner != geteuid() {
                throw BerthError(
                    .badRequest,
                    "The data directory \(path) belongs to another user (uid \(owner)), who could read the master key and the database. Run: chown \(geteuid()) \(path)"
                )
            }
            if mode & 0o077 != 0 {
                throw BerthError(
                    .badRequest,
                    "The data directory \(path) can be read by other users (mode \(String(mode, radix: 8))); it holds the master key and the database. Run: chmod 700 \(path)"
                )
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BerthError(.badRequest, "The data directory \(path) cannot be created: \(error.localizedDescription)")
        }
    }

    /// Refuses a SQLite database (or its `-wal`/`-shm` files) that others can read, and creates a
    /// missing database file with mode 0600 before SQLite opens it: SQLite would create it 0644, and
    /// gives the `-wal` and `-shm` files the database's own mode.
    static func prepareSQLite(path: String) throws(BerthError) {
        let readable = [path, path + "-wal", path + "-shm"].filter { file in mode(of: file).map { $0 & 0o077 != 0 } ?? false }
        if !readable.isEmpty {
            throw BerthError(
                .badRequest,
                "The SQLite database \(readable.joined(separator: ", ")) can be read by other users (mode \(String(mode(of: readable[0]) ?? 0, radix: 8))); it holds every sealed secret. Run: chmod 600 \(readable.joined(separator: " "))"
            )
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw BerthError(.badRequest, "The SQLite database \(path) cannot be created: \(String(cString: strerror(errno))).")
        }
    }

    /// The owner's uid of `path` (of what a symbolic link points to), or nil when it does not exist.
    static func owner(of path: String) -> UInt32? {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved),
            let owner = attributes[.ownerAccountID] as? NSNumber
        else { return nil }
        return owner.uint32Value
    }

    /// The permission bits of `path` (of what a symbolic link points to), or nil when it does not exist.
    static func mode(of path: String) -> UInt16? {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return nil }
        return mode.uint16Value & 0o7777
    }
}
