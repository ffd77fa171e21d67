import BerthDomain
import CBerthSandbox
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A program started in a sandbox of its own (``CBerthSandbox``): in new user, PID and mount
/// namespaces when ``Isolation/namespaces(_:)`` says so, with exactly the environment it is given,
/// its own session, and nothing of the server's descriptors. It cannot outlive the server: when
/// the server dies, the kernel closes the lifeline and the sandbox kills everything in it.
final class SandboxedProcess: Sendable {
    /// How the program is kept apart from the server.
    enum Isolation: Sendable, Equatable {
        /// Only a clean environment, a session and descriptors of its own (a server that is not
        /// root cannot switch users).
        case none
        /// New namespaces: the program runs as `inside` and sees only its own processes.
        case namespaces(Namespaces)
    }

    /// The ids of a user namespace: which outside ids the inside ids stand for.
    struct Namespaces: Sendable, Equatable {
        /// Lines of /proc/PID/uid_map and gid_map: `inside outside count`.
        var uidMap: [(inside: UInt32, outside: UInt32, count: UInt32)]
        var gidMap: [(inside: UInt32, outside: UInt32, count: UInt32)]
        /// Whom the program runs as, inside.
        var uid: UInt32
        var gid: UInt32

        static func == (lhs: Namespaces, rhs: Namespaces) -> Bool {
            lhs.uid == rhs.uid && lhs.gid == rhs.gid
                && lhs.uidMap.map { [$0.inside, $0.outside, $0.count] }
                    == rhs.uidMap.map { [$0.inside, $0.outside, $0.count] }
                && lhs.gidMap.map { [$0.inside, $0.outside, $0.count] } == rhs.gidMap.map { [$0.inside, $0.outside, $0.count] }
        }

        static func text(_ map: [(inside: UInt32, outside: UInt32, count: UInt32)]) -> String {
            map.map { "\($0.inside) \($0.outside) \($0.count)\n" }.joined()
        }
    }

    /// The sandbox's supervisor: PID 1 of its namespace, whose end is the program's.
    let pid: pid_t
    /// Closing it kills the sandbox.
    private let lifeline: Int32
    private let closed = Mutex(false)

    private init(pid: pid_t, lifeline: Int32) {
        self.pid = pid
        self.lifeline = lifeline
    }

    deinit { kill() }

    /// Starts `executable` with `arguments` (the first being its name) and exactly `environment`,
    /// reading `standardInput` (a descriptor the caller closes afterwards), writing to the server's
    /// standard error.
    static func start(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
        standardInput: Int32, isolation: Isolation
    ) throws(BerthError) -> SandboxedProcess {
        let executableFD = open(executable, O_RDONLY | O_CLOEXEC)
        guard executableFD >= 0 else {
            throw BerthError(
                .internalError, "The built-in worker's program \(executable) cannot be opened: \(Self.errorText(errno)).")
        }
        defer { close(executableFD) }
        let namespaces: Namespaces? = if case .namespaces(let namespaces) = isolation { namespaces } else { nil }
        var lifeline: Int32 = -1
        var failure = berth_sandbox_failure()
        let pid = withCStrings(arguments) { argv in
            withCStrings(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) { envp in
                workingDirectory.withCString { directory in
                    Namespaces.text(namespaces?.uidMap ?? []).withCString { uidMap in
                        Namespaces.text(namespaces?.gidMap ?? []).withCString { gidMap in
                            var spec = berth_sandbox_spec(
                                executable_fd: executableFD, argv: argv, envp: envp, stdin_fd: standardInput,
                                stdout_fd: STDERR_FILENO, stderr_fd: STDERR_FILENO, working_directory: directory,
                                new_namespaces: namespaces == nil ? 0 : 1, uid_map: uidMap, gid_map: gidMap,
                                inner_uid: namespaces?.uid ?? 0, inner_gid: namespaces?.gid ?? 0)
                            return berth_sandbox_spawn(&spec, &lifeline, &failure)
                        }
                    }
                }
            }
        }
        guard pid > 0 else {
            let step = withUnsafeBytes(of: failure.step) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw BerthError(
                .internalError,
                "The built-in worker could not be started: \(step) failed (\(Self.errorText(failure.error_number)))\(Self.hint(step: step, isolation: isolation))."
            )
        }
        return SandboxedProcess(pid: pid, lifeline: lifeline)
    }

    /// Asks the program to stop (SIGTERM, passed on by the supervisor).
    func terminate() {
        if !closed.withLock({ $0 }) { _ = Glibc.kill(pid, SIGTERM) }
    }

    /// Kills the sandbox and everything in it, at once.
    func kill() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if first { close(lifeline) }
    }

    /// Waits until the sandbox has ended (on a thread of its own: `waitpid` blocks) and returns
    /// its exit status (128 + the signal for a program killed by one).
    func waitForExit() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let exited = status & 0x7f == 0
                continuation.resume(returning: exited ? (status >> 8) & 0xff : 128 + status & 0x7f)
            }
        }
    }

    private static func errorText(_ number: Int32) -> String { String(cString: strerror(number)) }

    private static func hint(step: String, isolation: Isolation) -> String {
        guard case .namespaces = isolation, ["clone", "write uid_map", "write gid_map", "mount /proc"].contains(step) else {
            return ""
        }
        return
            ": this machine (or the container Berth runs in) does not allow user namespaces, which keep the built-in worker apart from the server. Allow them (for Docker: a seccomp profile that permits clone with CLONE_NEWUSER), or start the server with --builtin-worker in-process (steps run inside the server's process; scripts still run as the script user) or --builtin-worker off (steps run on external workers only)"
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStrings<Result>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Result
) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
