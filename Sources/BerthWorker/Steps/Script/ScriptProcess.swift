import AWSCore
import BerthDomain
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A script's child process, started with `posix_spawn` so that it holds nothing of the server:
///
/// - a session (and so a process group) of its own, without the server's terminal: cancelling, a
///   timeout and the end of the script kill the whole group, so nothing it started keeps running;
/// - standard input from `/dev/null`, standard output and error into two pipes read line by line,
///   the script's own text on descriptor 3, and every other descriptor of the server closed (an
///   inherited descriptor of the database would be readable whatever the file's permissions);
/// - default signal handling and an empty signal mask (the server ignores `SIGPIPE`, a script
///   must not);
/// - exactly the environment it is given.
///
/// Running as another user is the caller's choice of executable (`setpriv … -- bash`), since
/// `posix_spawn` cannot change users and forking a multithreaded server to do it is unsafe.
struct ScriptProcess {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var directory: String
    /// Becomes descriptor 3 of the child.
    var descriptor: Int32
    /// Runs once on the waiting thread when the process has ended and its group is killed (or
    /// when it could not be started), before `run` returns — unless a cancellation made `run`
    /// throw first. It may block.
    var afterExit: @Sendable () -> Void = {}

    /// How the process ended.
    struct Exit: Equatable {
        /// The exit code; 128 + the signal for a process killed by a signal.
        var status: Int32
        var timedOut: Bool
    }

    /// Runs the process to its end, handing each line of its output to `onLine` (true for standard
    /// error). After `timeout` the process group is killed and the exit says so; cancelling the
    /// calling task kills it too and throws `CancellationError`.
    func run(timeout: Duration, clock: any AWSClock, onLine: (String, Bool) async -> Void) async throws -> Exit {
        var pairs: [PipePair] = []
        let pid: pid_t
        do {
            for _ in 0..<3 { pairs.append(try PipePair()) }
            pid = try spawn(output: pairs[0].write, errors: pairs[1].write)
        } catch {
            for pair in pairs { pair.closeBoth() }
            afterExit()
            throw error
        }
        let (output, errors, stop) = (pairs[0], pairs[1], pairs[2])
        output.closeWrite()
        errors.closeWrite()
        let child = ChildProcess(pid: pid, stop: stop, afterExit: afterExit)
        let (lines, lineContinuation) = AsyncStream.makeStream(of: (String, Bool).self)
        let reader = OutputReader(output: output.read, errors: errors.read, stop: stop.read)
        // Two threads of their own block in poll() and waitid(), not threads of Dispatch's small
        // shared pool; both end with the process.
        Thread.detachNewThread {
            reader.read { line, isError in lineContinuation.yield((line, isError)) }
            lineContinuation.finish()
        }
        let (exit, exitContinuation) = AsyncStream.makeStream(of: Int32.self)
        Thread.detachNewThread {
            exitContinuation.yield(child.waitAndKillGroup())
            exitContinuation.finish()
        }
        return try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self, returning: Exit.self) { group in
                group.addTask {
                    // Ends early (cancelled) when the script ends first.
                    guard (try? await clock.sleep(for: timeout)) != nil else { return }
                    child.expire()
                }
                for await (line, isError) in lines { await onLine(line, isError) }
                var status: Int32 = -1
                for await code in exit { status = code }
                group.cancelAll()
                if Task.isCancelled { throw CancellationError() }
                return Exit(status: status, timedOut: child.hasExpired)
            }
        } onCancel: {
            child.killGroup()
        }
    }

    private func spawn(output: Int32, errors: Int32) throws(BerthError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors, 2)
        posix_spawn_file_actions_adddup2(&actions, descriptor, 3)
        guard let closeFrom = GlibcSpawnExtensions.addCloseFrom, let changeDirectory = GlibcSpawnExtensions.addChangeDirectory
        else {
            throw BerthError(
                .internalError,
                "Scripts need glibc 2.34 or newer (posix_spawn_file_actions_addclosefrom_np and addchdir_np) to start without the server's open files."
            )
        }
        guard closeFrom(&actions, 4) == 0, changeDirectory(&actions, directory) == 0 else {
            throw BerthError(.internalError, "The script's process could not be prepared: \(String(cString: strerror(errno))).")
        }

        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(
            &attributes, Int16(GlibcSpawnExtensions.newSession | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                posix_spawn(&pid, executable, &actions, &attributes, argvBuffer.baseAddress!, envpBuffer.baseAddress!)
            }
        }
        guard result == 0 else {
            throw BerthError(.internalError, "\(executable) could not be started: \(String(cString: strerror(result))).")
        }
        return pid
    }
}

/// The GNU extensions of `posix_spawn` that Swift's Glibc module does not show (they need
/// `_GNU_SOURCE`), looked up at run time.
enum GlibcSpawnExtensions {
    typealias Actions = UnsafeMutablePointer<posix_spawn_file_actions_t>
    typealias CloseFrom = @convention(c) (Actions, Int32) -> Int32
    typealias ChangeDirectory = @convention(c) (Actions, UnsafePointer<CChar>) -> Int32

    /// `POSIX_SPAWN_SETSID` of glibc's spawn.h (since 2.26): the child calls `setsid()`.
    static let newSession: Int32 = 0x80

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    static let addCloseFrom = symbol("posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
    static let addChangeDirectory = symbol("posix_spawn_file_actions_addchdir_np").map {
        unsafeBitCast($0, to: ChangeDirectory.self)
    }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
    }
}

/// The spawned process: waits for it, and kills its process group exactly once it is safe to.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let stop: PipePair
    private let afterExit: @Sendable () -> Void
    private struct State {
        var reaped = false
        var expired = false
    }
    private let state = Mutex(State())

    init(pid: pid_t, stop: PipePair, afterExit: @escaping @Sendable () -> Void) {
        self.pid = pid
        self.stop = stop
        self.afterExit = afterExit
    }

    var hasExpired: Bool { state.withLock { $0.expired } }

    /// Blocks until the script's main process ends; then kills what is left of its group (while the
    /// unreaped process still holds the group's id, so no other group can have it), reaps it, runs
    /// `afterExit` (which kills what left the group) and stops the output reader. Returns the exit
    /// status.
    func waitAndKillGroup() -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        var status: Int32 = 0
        state.withLock { state in
            kill(-pid, SIGKILL)
            state.reaped = true
        }
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        afterExit()
        stop.closeWrite()
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Kills the process group, unless the process was already reaped.
    func killGroup() {
        state.withLock { state in
            if !state.reaped { kill(-pid, SIGKILL) }
        }
    }

    /// The timeout ran out: kill the group and remember why.
    func expire() {
        state.withLock { state in
            state.expired = true
            if !state.reaped { kill(-pid, SIGKILL) }
        }
    }
}

/// Reads both output pipes with `poll` until both end, or until the stop pipe closes: then it
/// takes what is already in the pipes and returns. A process that left the script's group on
/// purpose (`setsid`) may hold a pipe open; the stop keeps it from holding the step too.
struct OutputReader: Sendable {
    let output: Int32
    let errors: Int32
    let stop: Int32

    func read(_ emit: (String, Bool) -> Void) {
        let splitters = [LineSplitter(), LineSplitter()]
        var descriptors = [
            pollfd(fd: output, events: Int16(POLLIN), revents: 0), pollfd(fd: errors, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
        ]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        /// Reads once from each ready pipe; false when nothing was ready.
        func readReady() -> Bool {
            var any = false
            for index in 0..<2 where descriptors[index].fd >= 0 && descriptors[index].revents != 0 {
                any = true
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptors[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    for line in splitters[index].append(Data(buffer[0..<count])) { emit(line, index == 1) }
                } else if count == 0 || errno != EINTR {
                    descriptors[index].fd = -1
                }
            }
            return any
        }
        var stopped = false
        while descriptors[0].fd >= 0 || descriptors[1].fd >= 0 {
            if poll(&descriptors, nfds_t(descriptors.count), stopped ? 0 : -1) == -1 {
                if errno == EINTR { continue }
                break
            }
            if !stopped && descriptors[2].revents != 0 {
                stopped = true
                descriptors[2].fd = -1
            }
            if !readReady() && stopped { break }
        }
        for (index, splitter) in splitters.enumerated() {
            for line in splitter.finish() { emit(line, index == 1) }
        }
        for descriptor in [output, errors, stop] { close(descriptor) }
    }
}

/// Both ends of a pipe, closed on exec (the child gets copies through `dup2`).
final class PipePair: Sendable {
    let read: Int32
    let write: Int32
    private let writeOpen = Mutex(true)

    init() throws(BerthError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw BerthError(.internalError, "No pipe for the script's output: \(String(cString: strerror(errno))).")
        }
        read = ends[0]
        write = ends[1]
        _ = fcntl(read, F_SETFD, FD_CLOEXEC)
        _ = fcntl(write, F_SETFD, FD_CLOEXEC)
    }

    func closeWrite() {
        let wasOpen = writeOpen.withLock { open in
            defer { open = false }
            return open
        }
        if wasOpen { close(write) }
    }

    func closeBoth() {
        closeWrite()
        close(read)
    }
}

/// Splits bytes into lines (without their newline), holding at most `maximumLineBytes` of a line
/// that has not ended: output without newlines (`cat /dev/zero`) must not grow the server's memory.
/// Past the limit the line is given out cut, with a marker, and the rest of it is dropped.
final class LineSplitter {
    static let maximumLineBytes = 16 * 1024
    private var buffer = Data()
    /// How much of `buffer` is known to hold no newline, so each byte is searched once.
    private var searched = 0
    /// True while the rest of an over-long line is being dropped.
    private var dropping = false

    func append(_ data: Data) -> [String] {
        var data = data[...]
        var lines: [String] = []
        while !data.isEmpty {
            if dropping {
                guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { return lines }
                dropping = false
                data = data[data.index(after: newline)...]
                continue
            }
            buffer.append(contentsOf: data)
            data = Data()[...]
            while let newline = buffer[(buffer.startIndex + searched)...].firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer = Data(buffer[buffer.index(after: newline)...])
                searched = 0
            }
            searched = buffer.count
            if buffer.count > Self.maximumLineBytes {
                lines.append(
                    String(decoding: buffer.prefix(Self.maximumLineBytes), as: UTF8.self)
                        + " … [line cut: the output went on past \(Self.maximumLineBytes / 1024) KiB without a newline]")
                buffer.removeAll()
                searched = 0
                dropping = true
            }
        }
        return lines
    }

    func finish() -> [String] {
        defer {
            buffer.removeAll()
            searched = 0
        }
        return buffer.isEmpty ? [] : [String(decoding: buffer, as: UTF8.self)]
    }
}
