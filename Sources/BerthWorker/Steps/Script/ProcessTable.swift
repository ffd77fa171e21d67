import BerthDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The machine's processes as `/proc` shows them: who runs what, and how to end everything a uid runs.
enum ProcessTable {
    /// The uids (real, effective or saved) of every process that can still run: zombies, which run
    /// nothing and only wait for their parent, are left out.
    /// - Throws: when `/proc` cannot be listed: then nothing can be said about any uid.
    static func liveUserIDs() throws(BerthError) -> Set<UInt32> {
        var uids: Set<UInt32> = []
        for process in try liveProcesses() { uids.formUnion(process.uids) }
        return uids
    }

    /// The live processes (not zombies) with `uid` as real, effective or saved uid.
    static func liveProcesses(uid: UInt32) throws(BerthError) -> [pid_t] {
        try liveProcesses().filter { $0.uids.contains(uid) }.map(\.pid)
    }

    /// Kills every process of `uid` and returns those still alive afterwards (none, unless the
    /// kernel refused). First from inside: a process with that uid sends `SIGKILL` to -1, which the
    /// kernel delivers to every process of the uid at once, so a process that forks as fast as it
    /// can gets no child past it. Then, for anything that slipped through, pid by pid from the
    /// server. Blocks for a few milliseconds.
    /// - Throws: when `/proc` cannot be listed, so that no one takes "cannot look" for "none left".
    static func killAll(uid: UInt32, gid: UInt32, setpriv: String, bash: String) throws(BerthError) -> [pid_t] {
        for attempt in 0..<6 {
            // The first kill does not wait for the scan: it is the one that counts.
            let remaining = attempt == 0 ? [] : try liveProcesses(uid: uid)
            if attempt > 0 && remaining.isEmpty { return [] }
            if attempt < 3 {
                killFromInside(uid: uid, gid: gid, setpriv: setpriv, bash: bash)
            } else {
                for pid in remaining { kill(pid, SIGKILL) }
            }
            // A killed process leaves /proc (or becomes a zombie) once the kernel has torn it down.
            usleep(useconds_t(5_000 << attempt))
        }
        return try liveProcesses(uid: uid)
    }

    /// `setpriv --reuid=uid … -- bash -c 'kill -KILL -1'`: signal -1 reaches every process the
    /// sender may signal (same uid), except the sender itself. Started without any of the server's
    /// descriptors and with an empty environment, since it runs under the script's uid.
    private static func killFromInside(uid: UInt32, gid: UInt32, setpriv: String, bash: String) {
        runAndWait([
            setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--no-new-privs", "--", bash, "-c", "kill -KILL -1",
        ])
    }

    /// The shared temporary folders where a script can leave files that outlive it.
    static let sharedTemporaryFolders = ["/tmp", "/var/tmp", "/dev/shm"]

    /// Deletes what `uid` owns in the shared temporary folders (`find … -user UID -delete`, which
    /// never follows a symbolic link), so that the next script given this uid finds nothing of the
    /// last one's. Run after every process of the uid is gone.
    static func removeFiles(ownedBy uid: UInt32) {
        let folders = sharedTemporaryFolders.filter { FileManager.default.fileExists(atPath: $0) }
        guard !folders.isEmpty, let find = ["/usr/bin/find", "/bin/find"].first(where: FileManager.default.isExecutableFile)
        else { return }
        runAndWait([find] + folders + ["-xdev", "-depth", "-user", "\(uid)", "-delete"])
    }

    /// Runs `arguments` (the executable first) with no descriptor of the server, standard streams
    /// on /dev/null and an empty environment, and waits for it.
    private static func runAndWait(_ arguments: [String]) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        guard let closeFrom = GlibcSpawnExtensions.addCloseFrom, closeFrom(&actions, 3) == 0 else { return }
        let argv = arguments.map { strdup($0) }
        defer { for pointer in argv { free(pointer) } }
        var environment: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let started = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            environment.withUnsafeMutableBufferPointer { envpBuffer in
                posix_spawn(&pid, arguments[0], &actions, nil, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
            }
        }
        guard started == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    private struct Entry {
        var pid: pid_t
        var uids: [UInt32]
    }

    /// Every process's real, effective and saved uid from `/proc/PID/status`, zombies left out.
    private static func liveProcesses() throws(BerthError) -> [Entry] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: "/proc")
        } catch {
            throw BerthError(
                .internalError, "/proc cannot be listed, so the processes a script left cannot be found: \(error)")
        }
        return names.compactMap { name -> Entry? in
            // A process may end between the listing and the read (the read fails): then it is not there.
            guard let pid = pid_t(name),
                let status = try? String(contentsOfFile: "/proc/\(name)/status", encoding: .utf8)
            else { return nil }
            var uids: [UInt32] = []
            for line in status.split(separator: "\n") {
                if line.hasPrefix("State:"), line.dropFirst(6).trimmingCharacters(in: .whitespaces).hasPrefix("Z") {
                    return nil
                }
                if line.hasPrefix("Uid:") {
                    uids = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).prefix(3).compactMap {
                        UInt32($0)
                    }
                }
            }
            return Entry(pid: pid, uids: uids)
        }
    }
}
