import BerthDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Machine-wide claims on script uids: a lock file per uid, held with `flock` while a script runs.
///
/// Two servers on one machine (tests, or nodes sharing a host) would otherwise lease the same uid
/// from the same range, and the end of one's script would kill the other's. The kernel drops a
/// lock when its holder dies, so a killed server leaves no claim behind. The folder is root's, or
/// the script user's when a built-in worker runs as that user (0700, checked, never followed
/// through a symbolic link): a script, which runs under a uid of its own, cannot plant or hold a lock.
public struct ScriptUIDLocks: Sendable {
    let directory: String

    /// The folder in `/run` (a tmpfs: claims do not outlive a reboot), or in `/tmp` where there is no `/run`.
    static let shared = ScriptUIDLocks(
        directory: FileManager.default.fileExists(atPath: "/run") ? "/run/berth-script-uids" : "/tmp/berth-script-uids")

    /// Claims `uid` for this process: a descriptor to close when the uid is given back, or nil when
    /// another server holds it. The folder may belong to this process's user or to the script
    /// user `scriptUser` (a built-in worker, which runs as that user, claims uids too).
    func claim(_ uid: UInt32, scriptUser: uid_t) throws(BerthError) -> Int32? {
        try prepareDirectory(scriptUser: scriptUser)
        // Read-only and readable by all: `flock` needs no more, and a built-in worker (which runs as
        // the script user) can then claim uids whose files root made. The folder keeps others out.
        let descriptor = open("\(directory)/\(uid)", O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw BerthError(
                .internalError,
                "The claim on script uid \(uid) in \(directory) cannot be made: \(String(cString: strerror(errno))).")
        }
        // A claim is a regular file: anything else planted under its name is refused, not waited on.
        var entry = stat()
        guard fstat(descriptor, &entry) == 0, entry.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw BerthError(
                .internalError, "\(directory)/\(uid) is not a regular file; remove it so that script uid \(uid) can be claimed.")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Creates the folder for a built-in worker that runs as `owner` (and cannot create it in
    /// `/run` itself), or gives an existing one of root's to it. For a server running as root.
    public static func prepareShared(owner: uid_t, group: gid_t) throws(BerthError) {
        try shared.prepareDirectory(scriptUser: owner)
        var info = stat()
        guard lstat(shared.directory, &info) == 0 else { throw shared.unusable }
        if info.st_uid != owner, lchown(shared.directory, owner, group) != 0 {
            throw BerthError(
                .internalError,
                "\(shared.directory) cannot be given to the built-in worker's user: \(String(cString: strerror(errno))).")
        }
        // Claims made before, by root, with files only root could open. Opened without following a
        // link and without blocking (the folder is the script user's: what is in it may be planted),
        // changed through the descriptor only if it is a regular file.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: shared.directory)) ?? [] {
            let descriptor = open("\(shared.directory)/\(name)", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var entry = stat()
            guard fstat(descriptor, &entry) == 0, entry.st_mode & S_IFMT == S_IFREG, entry.st_mode & 0o777 != 0o644 else {
                continue
            }
            fchmod(descriptor, 0o644)
        }
    }

    private var unusable: BerthError {
        BerthError(
            .internalError,
            "\(directory) must be a folder of the server's user (or of the script user) that no one else can open (mode 0700); remove it and let Berth create it."
        )
    }

    private func prepareDirectory(scriptUser: uid_t) throws(BerthError) {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw BerthError(
                .internalError,
                "The folder for script uid claims \(directory) cannot be created: \(String(cString: strerror(errno))).")
        }
        var info = stat()
        guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR,
            info.st_uid == geteuid() || (geteuid() == 0 && info.st_uid == scriptUser), info.st_mode & 0o077 == 0
        else { throw unusable }
    }
}
