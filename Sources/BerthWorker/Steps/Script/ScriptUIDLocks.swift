import BerthDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Machine-wide claims on script uids: a lock file per uid, held with `flock` while a script runs.
///
/// Two servers on one machine (tests, or nodes sharing a host) would otherwise lease the same uid
/// from the same range, and the end of one's script would kill the other's. The kernel drops a
/// lock when its holder dies, so a killed server leaves no claim behind. The folder is root's alone
/// (0700, checked, never followed through a symbolic link): a script cannot plant or hold a lock.
struct ScriptUIDLocks: Sendable {
    let directory: String

    /// The folder in `/run` (a tmpfs: claims do not outlive a reboot), or in `/tmp` where there is no `/run`.
    static let shared = ScriptUIDLocks(
        directory: FileManager.default.fileExists(atPath: "/run") ? "/run/berth-script-uids" : "/tmp/berth-script-uids")

    /// Claims `uid` for this process: a descriptor to close when the uid is given back, or nil when
    /// another server holds it.
    func claim(_ uid: UInt32) throws(BerthError) -> Int32? {
        try prepareDirectory()
        let descriptor = open("\(directory)/\(uid)", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BerthError(
                .internalError,
                "The claim on script uid \(uid) in \(directory) cannot be made: \(String(cString: strerror(errno))).")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    private func prepareDirectory() throws(BerthError) {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw BerthError(
                .internalError,
                "The folder for script uid claims \(directory) cannot be created: \(String(cString: strerror(errno))).")
        }
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == geteuid(),
            info.st_mode & 0o077 == 0
        else {
            throw BerthError(
                .internalError,
                "\(directory) must be a folder of the server's user that no one else can open (mode 0700); remove it and let Berth create it."
            )
        }
    }
}
