import BerthDomain
import BerthWorker
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How a node starts its built-in worker process: as whom, seeing what, with which arguments.
///
/// A server running as root starts it in new user, PID and mount namespaces: inside it is root of
/// its own namespace (so that it can give each script a uid of its own, as a server does), which
/// outside is the script user (`berth-worker`) and nothing more — it cannot read what root owns
/// (the data directory, the master key), and it sees only its own processes (not the server's
/// environment or command line). The namespace maps only the script user and the script uid range.
/// A server that is not root cannot switch users: the worker runs as the server's user.
/// Either way its environment is clean — its own temporary home, the search path, the AWS
/// variables that make up the built-in worker's own credential chain, proxies and locale — and
/// it gets its credential on standard input.
struct BuiltInWorkerLaunch: Sendable {
    var arguments: [String]
    var environment: [String: String]
    /// The worker's own home (and temporary folder), removed when the node stops.
    var home: URL
    var isolation: SandboxedProcess.Isolation
    /// Who owns `home`: the script user as root, else nil (the server's user).
    var owner: ScriptUser.Account?

    /// What of the server's environment the worker keeps: its AWS chain (keys, profile names,
    /// region, endpoints, web identity, container credentials, instance metadata), how to reach
    /// the network, and the locale. Never `BERTH_*` (the master key, the database URL).
    static func keeps(_ name: String) -> Bool {
        name.hasPrefix("AWS_") || name.hasPrefix("LC_")
            || ["PATH", "LANG", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR"].contains(name)
            || ["http_proxy", "https_proxy", "no_proxy", "all_proxy"].contains(name.lowercased())
    }

    static func plan(
        settings: BuiltInWorkerSettings, scripts: ScriptUser, deploymentPollInterval: Duration,
        serverEnvironment: [String: String], temporaryDirectory: URL = FileManager.default.temporaryDirectory
    ) throws(BerthError) -> BuiltInWorkerLaunch {
        var owner: ScriptUser.Account?
        var isolation = SandboxedProcess.Isolation.none
        if geteuid() == 0 {
            guard let account = scripts.account, account.uid != 0 else {
                throw BerthError(
                    .validationFailed,
                    "The built-in worker runs as the script user '\(scripts.name)', which \(scripts.exists ? "is root" : "does not exist on this machine"). Create it (\(scripts.creationCommand)), or start the server with --builtin-worker off (external workers only) or --builtin-worker in-process (steps inside the server's process)."
                )
            }
            let range = scripts.uids.range
            guard !range.contains(account.uid) else {
                throw BerthError(
                    .validationFailed,
                    "--script-uid-range \(range.lowerBound)-\(range.upperBound) contains the script user's own uid \(account.uid); choose a range without it."
                )
            }
            owner = account
            isolation = .namespaces(
                .init(
                    uidMap: [
                        (0, UInt32(account.uid), 1),
                        (range.lowerBound, range.lowerBound, range.upperBound - range.lowerBound + 1),
                    ],
                    gidMap: [(UInt32(account.gid), UInt32(account.gid), 1)], uid: 0, gid: UInt32(account.gid)))
        }
        let home = temporaryDirectory.appendingPathComponent("\(homePrefix)\(getpid())-\(UUID().uuidString)")
        var environment = serverEnvironment.filter { keeps($0.key) }
        environment["PATH"] = environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        environment["HOME"] = home.path
        environment["TMPDIR"] = home.path
        var arguments = [
            "berth", "worker", "builtin", "--script-user", scripts.name,
            "--script-uid-range", "\(scripts.uids.range.lowerBound)-\(scripts.uids.range.upperBound)",
            "--deployment-poll-interval",
            "\(Double(deploymentPollInterval.components.seconds) + Double(deploymentPollInterval.components.attoseconds) / 1e18)",
            "--concurrency", "\(settings.concurrency)", "--log-level", settings.logLevel.rawValue,
        ]
        if scripts.allowRoot { arguments.append("--allow-root-scripts") }
        return BuiltInWorkerLaunch(arguments: arguments, environment: environment, home: home, isolation: isolation, owner: owner)
    }

    /// The start of a worker home's name, followed by the server's pid.
    static let homePrefix = "berth-builtin-worker-"

    /// Removes the homes that workers of servers no longer running left in `folder` (a server
    /// killed with its worker removes nothing; a script's files may still be there).
    /// - Returns: what could not be removed, and why, for the log.
    static func removeAbandonedHomes(in folder: URL) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            return ["\(folder.path) cannot be listed: \(error)"]
        }
        var failures: [String] = []
        for name in names where name.hasPrefix(homePrefix) {
            guard let pid = Int32(name.dropFirst(homePrefix.count).prefix { $0 != "-" }), pid != getpid(),
                Glibc.kill(pid, 0) != 0 && errno == ESRCH
            else { continue }
            do {
                try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
            } catch {
                failures.append("\(folder.appendingPathComponent(name).path): \(error)")
            }
        }
        return failures
    }

    /// Creates the worker's home: its owner's, searchable but not listable by others (each
    /// script's own home is made inside it, under the script's uid).
    func createHome() throws(BerthError) {
        let created = mkdir(home.path, 0o711) == 0
        guard created, chmod(home.path, 0o711) == 0, owner.map({ chown(home.path, $0.uid, $0.gid) == 0 }) ?? true else {
            throw BerthError(
                .internalError,
                "The built-in worker's home \(home.path) cannot be made: \(String(cString: strerror(errno))).")
        }
    }
}
