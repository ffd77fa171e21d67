import BerthDomain
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A script's own temporary home directory (mode 0700, owned by the user the script runs as), its
/// `HOME` and working directory, removed when the step ends.
struct ScriptHome {
    let url: URL
    let owner: ScriptUser.Resolution

    var path: String { url.path }

    static func create(owner: ScriptUser.Resolution, logger: Logger) throws(BerthError) -> ScriptHome {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-script-\(UUID().uuidString)")
        guard mkdir(url.path, 0o700) == 0 else {
            throw BerthError(
                .internalError, "The script's directory \(url.path) cannot be created: \(String(cString: strerror(errno))).")
        }
        let home = ScriptHome(url: url, owner: owner)
        if case .user(let account) = owner, chown(url.path, account.uid, account.gid) != 0 {
            let reason = String(cString: strerror(errno))
            home.remove(logger: logger)
            throw BerthError(.internalError, "The script's directory cannot be given to \(account.name): \(reason).")
        }
        return home
    }

    /// A readable descriptor of a file holding `text` that has no name: it is created, unlinked at
    /// once and only then written, so a crash at any moment leaves no copy of the text on disk. The
    /// script's user may read it (bash opens `/dev/fd/3`, which reopens the file).
    func unnamedFile(containing text: String) throws(BerthError) -> Int32 {
        let path = url.appendingPathComponent(".script-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BerthError(.internalError, "The script's file cannot be created: \(String(cString: strerror(errno))).")
        }
        unlink(path)
        do throws(BerthError) {
            if case .user(let account) = owner, fchown(descriptor, account.uid, account.gid) != 0 {
                throw BerthError(.internalError, "The script's file cannot be given to \(account.name).")
            }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw BerthError(.internalError, "The script's file cannot be written: \(String(cString: strerror(errno))).")
                }
                bytes = bytes.dropFirst(written)
            }
            lseek(descriptor, 0, SEEK_SET)
            return descriptor
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// Removes the folder and what the script left in it; a failure is logged with the folder's
    /// path (it holds nothing of the script's variables, which live in an unnamed file).
    func remove(logger: Logger) {
        // The sweep after the script may have removed it already (it belongs to the script's uid).
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            logger.warning("The script's temporary home \(url.path) could not be removed: \(error.localizedDescription)")
        }
    }
}
