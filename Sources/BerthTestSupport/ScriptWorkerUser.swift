import BerthDev
import Foundation

/// The unprivileged OS user that Berth runs scripts as (`berth-worker`), created for tests that run
/// as root, as CI does: a server running as root refuses to run scripts without it.
public enum ScriptWorkerUser {
    public static let name = "berth-worker"

    /// Creates the user with `useradd` when this process is root and the user is missing; does
    /// nothing otherwise (a server that is not root runs scripts as its own user).
    public static func ensure() async throws {
        guard geteuid() == 0, getpwnam(name) == nil else { return }
        try await onOwnThread(create)
    }

    private static func create() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
        process.arguments = [
            "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        // Another test process may have created it at the same moment: only its absence is a failure.
        guard getpwnam(name) != nil else {
            throw TestSupportError("useradd \(name) failed (exit \(process.terminationStatus)); tests running as root need it")
        }
    }
}

extension ScriptWorkerUser {
    /// The server arguments for a test whose scripts run `tool` (a script of the test virtual
    /// environment, such as its `aws`): none when the script user can run it, else scripts run as
    /// root (`--script-user root --allow-root-scripts`). The environment's Python may live where
    /// no other user can reach it (pyenv under a 0700 /root); the sandbox itself has its own tests.
    public static func serverArguments(forScriptsRunning tool: String) -> [String] {
        guard geteuid() == 0 else { return [] }
        let firstLine = (try? String(contentsOfFile: tool, encoding: .utf8))?.split(separator: "\n").first ?? ""
        let interpreter = firstLine.hasPrefix("#!") ? String(firstLine.dropFirst(2)).trimmingCharacters(in: .whitespaces) : tool
        return [tool, interpreter].allSatisfy(reachableByOthers) ? [] : ["--script-user", "root", "--allow-root-scripts"]
    }

    /// Whether a user other than the owner may execute `path` (after symbolic links) and search
    /// every directory above it.
    static func reachableByOthers(_ path: String) -> Bool {
        var url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        while url.path != "/" {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                let mode = attributes[.posixPermissions] as? NSNumber, mode.intValue & 0o001 != 0
            else { return false }
            url.deleteLastPathComponent()
        }
        return true
    }
}
