import BerthDev
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with `posix_spawn`, for the test helpers that start hundreds of them.
///
/// Foundation's `Process.run()` on Linux reads `/proc/self/fd` to close the parent's descriptors
/// in the child, and copies each directory entry 256 bytes at a time: an entry at the end of
/// glibc's buffer reads past it and, now and then, crashes the whole test process
/// (swift-corelibs-foundation pull request 5472, fixed after this toolchain). Here the child gets
/// its three standard streams and nothing else (`posix_spawn_file_actions_addclosefrom_np`).
struct SpawnedProcess: Sendable {
    let pid: pid_t

    /// Starts `executable` (an absolute path) with exactly `environment`; the three descriptors
    /// become its standard input, output and error.
    static func spawn(
        _ executable: String, arguments: [String], environment: [String: String], input: Int32, output: Int32,
        error: Int32
    ) throws -> SpawnedProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, target) in [(input, Int32(0)), (output, 1), (error, 2)] {
            posix_spawn_file_actions_adddup2(&actions, descriptor, target)
        }
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw TestSupportError("posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or later is needed)")
        }
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let started = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard started == 0 else {
            throw TestSupportError("\(executable) could not be started: \(String(cString: strerror(started)))")
        }
        return SpawnedProcess(pid: pid)
    }

    /// Waits for the process to end (on a thread of its own) and reaps it: its exit code, or
    /// 128 + the signal that ended it.
    func exitStatus() async -> Int32 {
        let pid = pid
        return await onOwnThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
    }

    /// A pipe whose two ends are closed on exec (a child gets one only through `spawn`'s dup2).
    static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard Glibc.pipe(&ends) == 0 else {
            throw TestSupportError("pipe failed: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }
}
