import BerthDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which OS user Run AWS CLI script steps run as (`--script-user`, `--allow-root-scripts`).
///
/// A script is code that anyone who may edit a project writes; running it as the server's user
/// would let it read the master key, the database and the server's environment. A server running
/// as root therefore runs scripts as an unprivileged user (`berth-worker` by default): its group,
/// and a uid of its own per script from ``ScriptUIDPool``, so that running scripts cannot reach
/// each other and nothing a script starts outlives it. It refuses to run scripts at all when that
/// user is missing, unless `allowRoot` accepts the risk. A server that does not run as root cannot
/// change users: its scripts run as its own user.
///
/// ```swift
/// let policy = ScriptUser(name: "berth-worker")
/// switch try policy.resolve() {
/// case .server: …                         // no switch possible or wanted
/// case .user(let group): …                // lease a uid, setpriv --reuid uid --regid group.gid …
/// }
/// ```
public struct ScriptUser: Sendable {
    public static let defaultName = "berth-worker"

    public var name: String
    /// Run scripts as root when the user does not exist (`--allow-root-scripts`).
    public var allowRoot: Bool
    /// The uid of its own that each script runs under, with `name`'s group.
    public let uids: ScriptUIDPool
    /// What runs the scripts, for messages: the server (its built-in worker) or an external worker.
    public var runner: Runner

    public enum Runner: Sendable {
        case server
        case worker

        var noun: String { self == .server ? "the server" : "the worker" }
        /// What a script running as the runner's own user could read.
        var exposed: String {
            self == .server
                ? "the master key and every secret"
                : "the worker's credential (and through it the jobs of its pool, with their credentials)"
        }
    }

    public init(
        name: String = ScriptUser.defaultName, allowRoot: Bool = false, uids: ScriptUIDPool = ScriptUIDPool(),
        runner: Runner = .server
    ) {
        self.name = name
        self.allowRoot = allowRoot
        self.uids = uids
        self.runner = runner
    }

    /// An OS account to switch to.
    public struct Account: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t
    }

    /// Whom a script runs as.
    public enum Resolution: Sendable, Equatable {
        /// The server's own user: it does not run as root, or `allowRoot` lets scripts run as root.
        case server
        case user(Account)
    }

    /// Whether the user exists on this machine.
    public var exists: Bool { Self.lookUp(name) != nil }
    /// The user's passwd entry, when it exists.
    public var account: Account? { Self.lookUp(name) }

    /// The command that creates the user, for messages.
    public var creationCommand: String {
        "useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \(name)"
    }

    /// Decides whom the next script runs as; looked up for every script, so that creating the user
    /// needs no restart.
    public func resolve() throws(BerthError) -> Resolution {
        guard geteuid() == 0 else { return .server }
        if let account = Self.lookUp(name), account.uid != 0 { return .user(account) }
        if allowRoot { return .server }
        let problem =
            Self.lookUp(name) == nil ? "the OS user '\(name)' does not exist on this machine" : "'\(name)' is root (uid 0)"
        throw BerthError(
            .validationFailed,
            "Scripts run as an unprivileged OS user, and \(problem). As root a script could read \(runner.exposed). Create the user (\(creationCommand)), or start \(runner.noun) with --script-user NAME naming another unprivileged user, or with --allow-root-scripts to run scripts as root anyway."
        )
    }

    /// What to say at start when scripts will not run as intended: nil when they run as `name`.
    public func startupWarning() -> String? {
        guard geteuid() == 0 else {
            let me = Self.lookUp(uid: geteuid()) ?? "uid \(geteuid())"
            return
                "Berth does not run as root, so Run AWS CLI script steps run as its own user (\(me)) and can read what \(runner.noun) reads: \(runner.exposed). Run \(runner.noun) as root with an unprivileged script user (--script-user, default \(Self.defaultName)) to keep scripts away from it."
        }
        do {
            if try resolve() == .server {
                let why = exists ? "'\(name)' is root" : "the user '\(name)' does not exist; create it with: \(creationCommand)"
                return
                    "--allow-root-scripts: Run AWS CLI script steps run as root and can read \(runner.exposed) (\(why))."
            }
            return nil
        } catch {
            return "Run AWS CLI script steps will fail: \(error.message)"
        }
    }

    /// The passwd entry of `name`, through the reentrant `getpwnam_r`.
    static func lookUp(_ name: String) -> Account? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return Account(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
    }

    static func lookUp(uid: uid_t) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return nil
        }
        return String(cString: name)
    }
}
