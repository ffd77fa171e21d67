import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// Run AWS CLI script steps attacked as a project editor would: the script tries to read the
/// server's secrets, to outlive its step, and to leave its variables behind.
@Suite("Script steps are sandboxed")
struct ScriptSandboxEndToEndTests {
    /// A server (no AWS needed: scripts without target roles or accounts) with a Production
    /// environment; its temporary directory is the test's, so that what scripts leave is visible.
    struct Harness {
        let server: BerthServerProcess
        let root: URL
        let temporary: URL
        let canary: String
        /// The harness's own `--script-uid-range`: a server that starts elsewhere on this machine
        /// sweeps what scripts left only in its own range, so it never sweeps this test's.
        let uidRange: String

        func berth(_ arguments: [String], stdin: String? = nil) async throws -> BerthProcess.Result {
            try await server.cli(arguments, standardInput: stdin)
        }

        /// Applies a project `name` with one script step, creates release 1 and starts a deployment
        /// to Production; returns the task id.
        func startDeployment(
            _ name: String, script: String, properties: String = "", variables: String = "", sensitive: [String: String] = [:]
        ) async throws -> String {
            let indented = script.split(separator: "\n", omittingEmptySubsequences: false).map { "          " + $0 }
                .joined(separator: "\n")
            let file = root.appendingPathComponent("\(name).yaml")
            try """
            name: \(name)
            steps:
              - name: Attack
                type: run-aws-cli-script
                properties:
            \(properties)
                  script: |
            \(indented)
            \(variables)
            """.write(to: file, atomically: true, encoding: .utf8)
            let applied = try await berth(["project", "apply", "-f", file.path])
            #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
            for (variable, value) in sensitive {
                let set = try await berth(
                    ["variable", "set", "--project", name, variable, "--sensitive", "--value-stdin"], stdin: value)
                #expect(set.status == 0, "\(set.standardError)")
            }
            let release = try await berth(["release", "create", "--project", name, "--version", "1"])
            #expect(release.status == 0, "\(release.standardError)")
            let started = try await berth([
                "deploy", "--project", name, "--release", "1", "--environment", "Production", "--output", "json",
            ])
            return try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String, "\(started)")
        }

        /// The task's log once it contains `text`; fails the test when it never does.
        func log(of task: String, containing text: String) async throws -> String {
            for _ in 0..<300 {
                let log = try await berth(["task", "log", task]).standardOutput
                if log.contains(text) { return log }
                try await Task.sleep(for: .milliseconds(100))
            }
            let log = try await berth(["task", "log", task]).standardOutput
            try #require(log.contains(text), "'\(text)' never appeared in the log of \(task):\n\(log)")
            return log
        }
    }

    static func withHarness(arguments: [String] = [], _ body: (Harness) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-sandbox-\(UUID().uuidString)")
        let temporary = root.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let canary = "canary-\(UUID().uuidString)"
        let start = 1_960_000_000 + 100 * UInt32.random(in: 0..<1_000_000)
        let uidRange = "\(start)-\(start + 99)"
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"),
            environment: [
                "HOME": root.path, "TMPDIR": temporary.path, "AWS_EC2_METADATA_DISABLED": "true", "BERTH_TEST_CANARY": canary,
            ], arguments: ["--script-uid-range", uidRange] + arguments)
        #expect(try await server.cli(["environment", "create", "Production"]).status == 0)
        try await body(Harness(server: server, root: root, temporary: temporary, canary: canary, uidRange: uidRange))
    }

    /// Whether process `pid` is gone (or a zombie nobody reaped yet, which runs nothing).
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.range(of: ") Z ") != nil
    }

    @Test(
        "As root, a script on the built-in worker runs with berth-worker's group and a uid of its own, and cannot read the master key, the database, or the environment and command line of the server or its worker",
        .enabled(if: geteuid() == 0, "only a server running as root switches users (CI runs as root)"))
    func scriptCannotReadSecrets() async throws {
        try await Self.withHarness { h in
            let data = h.server.dataDirectory.path
            let task = try await h.startDeployment(
                "Attack",
                script: """
                    echo "uid $(id -u) group $(id -gn) user $USER/$LOGNAME groups $(id -G)"
                    cat \(data)/master.key && echo "LEAK: master key" || echo "master key refused"
                    tr '\\0' '\\n' < /proc/\(h.server.processIdentifier)/environ && echo "LEAK: environ" || echo "environ refused"
                    tr '\\0' ' ' < /proc/\(h.server.processIdentifier)/cmdline | grep -q "berth server" && echo "LEAK: cmdline" || echo "cmdline refused"
                    head -c 15 \(data)/berth.sqlite && echo "LEAK: sqlite" || echo "sqlite refused"
                    ls \(data) && echo "LEAK: data directory" || echo "data directory refused"
                    su -c true root < /dev/null && echo "LEAK: su" || echo "no way back to root"
                    for p in /proc/[0-9]*; do
                      echo "process $(tr '\\0' ' ' < $p/cmdline 2> /dev/null)"
                      tr '\\0' '\\n' < $p/environ > /dev/null 2>&1 && echo "environ of $(tr '\\0' ' ' < $p/cmdline 2> /dev/null)"
                    done
                    echo "home $HOME"
                    echo "names $(env | cut -d= -f1 | sort | tr '\\n' ' ')"
                    echo "done"
                    """)
            let log = try await h.log(of: task, containing: "done")
            let uid = try #require(log.firstMatch(of: #/uid (\d+) /#).flatMap { UInt32($0.output.1) }, "\(log)")
            let bounds = h.uidRange.split(separator: "-").compactMap { UInt32($0) }
            #expect((bounds[0]...bounds[1]).contains(uid), "\(log)")
            let group = try #require(getgrnam("berth-worker")).pointee.gr_gid
            #expect(log.contains("group berth-worker user berth-worker/berth-worker groups \(group)\n"), "\(log)")
            for refusal in [
                "master key refused", "environ refused", "cmdline refused", "sqlite refused", "data directory refused",
                "no way back to root",
            ] {
                #expect(log.contains(refusal), "\(refusal): \(log)")
            }
            #expect(!log.contains("LEAK"), "\(log)")
            let masterKey = try String(contentsOfFile: data + "/master.key", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            for secret in [masterKey, h.canary, "SQLite format"] {
                #expect(!log.contains(secret), "\(secret) reached the script")
            }
            // Nothing of the server's environment: only PATH, its own HOME and the AWS region
            // (bash adds PWD, SHLVL and _ itself).
            let names = try #require(log.firstMatch(of: /names ([A-Z_ ]+)/).map { String($0.output.1) }, "\(log)")
            #expect(
                Set(names.split(separator: " ").map(String.init))
                    == ["AWS_DEFAULT_REGION", "AWS_REGION", "HOME", "LOGNAME", "PATH", "PWD", "SHLVL", "USER", "_"], "\(names)")
            let home = try #require(log.firstMatch(of: /home (\S+)/).map { String($0.output.1) })
            // Inside the built-in worker's own home, in the server's temporary folder.
            #expect(home.hasPrefix(h.temporary.path + "/berth-builtin-worker-\(h.server.processIdentifier)-"), "\(home)")
            #expect(home.contains("/berth-script-"), "\(home)")
            // The worker's PID namespace: the server is not there at all, the worker is, and its
            // environment (where its AWS variables are) cannot be read.
            let processes = log.matches(of: /process ([^\n]*)/).map { String($0.output.1) }
            #expect(processes.contains { $0.hasPrefix("berth worker builtin") }, "\(processes)")
            #expect(!processes.contains { $0.contains("berth server") || $0.contains("/berth server") }, "\(processes)")
            let readable = log.matches(of: /environ of ([^\n]*)/).map { String($0.output.1) }
            #expect(!readable.isEmpty && !readable.contains { $0.contains("worker builtin") }, "\(readable)")
            // "done" is printed before the step ends: wait for the end.
            #expect(try await h.berth(["task", "log", task, "--follow"]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: home), "the script's home is removed after the step")
        }
    }

    @Test(
        "As root, the built-in worker is a separate process: the script user outside, namespaces of its own, none of the server's environment, listed as builtin-NODE",
        .enabled(if: geteuid() == 0, "only a server running as root switches users (CI runs as root)"))
    func builtInWorkerProcess() async throws {
        try await Self.withHarness { h in
            // The server's child is the sandbox's init; the init's child is the worker.
            func children(of parent: Int32) -> [Int32] {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
                return names.compactMap { Int32($0) }.filter { pid in
                    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                    return status.contains("\nPPid:\t\(parent)\n")
                }
            }
            func commandLine(_ pid: Int32) -> String {
                let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
                return String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            }
            var worker: Int32?
            for _ in 0..<100 {
                worker = children(of: h.server.processIdentifier).flatMap(children(of:)).first {
                    commandLine($0).hasPrefix("berth worker builtin")
                }
                if worker != nil { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let pid = try #require(worker, "no built-in worker process under the server")
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let account = try #require(getpwnam("berth-worker")).pointee
            let (uid, gid) = (account.pw_uid, account.pw_gid)
            #expect(status.contains("\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\n"), "\(status)")
            #expect(status.contains("\nGid:\t\(gid)\t"), "\(status)")
            // PID 2 of a namespace of its own (the sandbox's init is 1), and no way to gain privileges.
            #expect(status.contains("\nNSpid:\t\(pid)\t2\n"), "\(status)")
            #expect(status.contains("\nNoNewPrivs:\t1\n"), "\(status)")
            for namespace in ["user", "pid", "mnt"] {
                let own = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(namespace)")
                let server = try FileManager.default.destinationOfSymbolicLink(
                    atPath: "/proc/\(h.server.processIdentifier)/ns/\(namespace)")
                #expect(own != server, "the worker shares the server's \(namespace) namespace")
            }
            let environment = String(
                decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")).map { $0 == 0 ? 10 : $0 },
                as: UTF8.self)
            #expect(!environment.contains(h.canary), "the server's environment reached the worker")
            #expect(!environment.contains("BERTH_"), "\(environment)")
            #expect(
                environment.contains("HOME=\(h.temporary.path)/berth-builtin-worker-\(h.server.processIdentifier)-"),
                "\(environment)")
            let listed = try await h.berth(["worker", "list", "--output", "json"])
            let workers = try ServerEndToEndTests.array(listed)
            #expect(workers.count == 1, "\(workers)")
            #expect(
                workers.first?["builtIn"] as? Bool == true && (workers.first?["name"] as? String)?.hasPrefix("builtin-") == true,
                "\(workers)")
        }
    }

    @Test(
        "As root, running scripts cannot reach each other, and what leaves a script's session is killed when the script ends",
        .enabled(if: geteuid() == 0, "only a server running as root switches users (CI runs as root)"))
    func scriptsAreKeptApart() async throws {
        try await Self.withHarness { h in
            let victim = try await h.startDeployment("Victim", script: "echo \"victim $$ $(id -u)\"\nsleep 300")
            let victimLog = try await h.log(of: victim, containing: "victim ")
            let victimIDs = try #require(victimLog.firstMatch(of: /victim (\d+) (\d+)/), "\(victimLog)")
            let (victimPID, victimUID) = (try #require(Int32(victimIDs.output.1)), try #require(UInt32(victimIDs.output.2)))

            let attacker = try await h.startDeployment(
                "Escape",
                script: """
                    cat /proc/\(victimPID)/environ > /dev/null 2>&1 && echo "LEAK: environ" || echo "environ refused"
                    ls /proc/\(victimPID)/fd > /dev/null 2>&1 && echo "LEAK: descriptors" || echo "descriptors refused"
                    kill -0 \(victimPID) 2> /dev/null && echo "LEAK: signal" || echo "signal refused"
                    setsid sleep 300 < /dev/null > /dev/null 2>&1 &
                    ( ( sleep 301 < /dev/null > /dev/null 2>&1 & ) & )
                    touch "$HOME/made" /tmp/berth-left-by-$(id -u)
                    echo "attacker $(id -u) umask $(umask) mode $(stat -c %a "$HOME/made")"
                    """)
            let result = try await h.berth(["task", "log", attacker, "--follow"])
            let log = result.standardOutput + result.standardError
            #expect(result.status == 0, "\(log)")
            for refusal in ["environ refused", "descriptors refused", "signal refused"] {
                #expect(log.contains(refusal), "\(refusal): \(log)")
            }
            #expect(!log.contains("LEAK"), "\(log)")
            let attackerUID = try #require(log.firstMatch(of: #/attacker (\d+) /#).flatMap { UInt32($0.output.1) }, "\(log)")
            #expect(attackerUID != victimUID)
            #expect(log.contains("umask 0077 mode 600"), "\(log)")
            // The step has ended: what left its session (setsid) or its group (double fork) is gone.
            for _ in 0..<100 where !Self.liveProcesses(uid: attackerUID).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            #expect(Self.liveProcesses(uid: attackerUID).isEmpty, "processes of the ended script survived")
            #expect(
                !FileManager.default.fileExists(atPath: "/tmp/berth-left-by-\(attackerUID)"),
                "a file the script left in /tmp waits for the next script with its uid")
            // …and only they: the other script still runs, until it is cancelled.
            #expect(!Self.liveProcesses(uid: victimUID).isEmpty, "the end of one script killed another")
            #expect(try await h.berth(["task", "cancel", victim]).status == 0)
            #expect(try await h.berth(["task", "log", victim, "--follow"]).status == 6)
            for _ in 0..<100 where !Self.liveProcesses(uid: victimUID).isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            #expect(Self.liveProcesses(uid: victimUID).isEmpty, "processes of the cancelled script survived")
        }
    }

    /// Waits until what a script reported as `pid uid` is gone: as root every process of its uid
    /// (its pid is one of the worker's PID namespace), else that pid. Fails the test when it never is.
    static func expectGone(_ reported: (Substring, Substring, Substring), _ message: String) async throws {
        let gone: () -> Bool
        if geteuid() == 0 {
            let uid = try #require(UInt32(reported.2))
            gone = { liveProcesses(uid: uid).isEmpty }
        } else {
            let pid = try #require(Int32(reported.1))
            gone = { isGone(pid) }
        }
        for _ in 0..<100 where !gone() { try await Task.sleep(for: .milliseconds(50)) }
        #expect(gone(), "\(message): \(reported.0)")
    }

    /// The live processes (zombies left out) whose real, effective or saved uid is `uid`.
    static func liveProcesses(uid: UInt32) -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name in
            guard let pid = Int32(name), let status = try? String(contentsOfFile: "/proc/\(name)/status", encoding: .utf8),
                !status.contains("State:\tZ")
            else { return nil }
            let uids = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst()
            return uids?.prefix(3).contains { UInt32($0) == uid } == true ? pid : nil
        }
    }

    @Test(
        "As root, a missing script user refuses script steps with the command that creates it; --allow-root-scripts runs them as root",
        .enabled(if: geteuid() == 0, "only a server running as root switches users (CI runs as root)"))
    func missingScriptUser() async throws {
        // The built-in worker process runs as the script user: without it, the server does not start.
        do {
            try await Self.withHarness(arguments: ["--script-user", "berth-nobody-here"]) { _ in
                Issue.record("a server started whose built-in worker has no user to run as")
            }
        } catch {
            let message = "\(error)"
            #expect(
                message.contains("The built-in worker runs as the script user 'berth-nobody-here', which does not exist"),
                "\(message)")
            #expect(message.contains("useradd --system --user-group"), "\(message)")
        }
        // Inside the server's process, steps other than scripts run; scripts are refused.
        try await Self.withHarness(arguments: ["--script-user", "berth-nobody-here", "--builtin-worker", "in-process"]) { h in
            #expect(h.server.log.contains("Run AWS CLI script steps will fail"), "\(h.server.log)")
            let task = try await h.startDeployment("Refused", script: "echo \"ran as $(id -un)\"")
            let result = try await h.berth(["task", "log", task, "--follow"])
            let output = result.standardOutput + result.standardError
            #expect(result.status == 1, "\(output)")
            #expect(output.contains("the OS user 'berth-nobody-here' does not exist on this machine"), "\(output)")
            #expect(
                output.contains(
                    "useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin berth-nobody-here"
                ), "\(output)")
            #expect(!output.contains("ran as"), "\(output)")
        }
        try await Self.withHarness(arguments: ["--script-user", "berth-nobody-here", "--allow-root-scripts"]) { h in
            #expect(h.server.log.contains("--allow-root-scripts: Run AWS CLI script steps run as root"), "\(h.server.log)")
            #expect(h.server.log.contains("The built-in worker runs inside the server's process"), "\(h.server.log)")
            let task = try await h.startDeployment("Root", script: "echo \"ran as $(id -un)\"")
            let result = try await h.berth(["task", "log", task, "--follow"])
            #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
            #expect(result.standardOutput.contains("ran as root"), "\(result.standardOutput)")
        }
    }

    @Test("A script past its timeoutSeconds is killed with the processes it started, and so is a cancelled one")
    func timeoutAndCancelKillEverything() async throws {
        try await Self.withHarness { h in
            let file = h.root.appendingPathComponent("zero.yaml")
            try """
            name: Zero
            steps:
              - {name: Forever, type: run-aws-cli-script, properties: {script: "sleep 1", timeoutSeconds: 0}}
            """.write(to: file, atomically: true, encoding: .utf8)
            let refused = try await h.berth(["project", "apply", "-f", file.path])
            #expect(refused.status == 2, "\(refused.standardOutput)\(refused.standardError)")
            #expect(refused.standardError.contains("timeoutSeconds"), "\(refused.standardError)")
            #expect(refused.standardError.contains("must be 1 to 86400 (got 0)"), "\(refused.standardError)")

            let timedOut = try await h.startDeployment(
                "Slow", script: "sleep 300 &\necho \"child $! $(id -u)\"\nwait", properties: "      timeoutSeconds: 1")
            let result = try await h.berth(["task", "log", timedOut, "--follow"])
            #expect(result.status == 5, "\(result.standardOutput)\(result.standardError)")
            #expect(
                (result.standardOutput + result.standardError).contains("the script did not end within 1 s (timeoutSeconds)"),
                "\(result.standardOutput)\(result.standardError)")
            let child = try #require(result.standardOutput.firstMatch(of: /child (\d+) (\d+)/), "\(result.standardOutput)")
            try await Self.expectGone(child.output, "the script's child outlived the timeout")

            let cancelled = try await h.startDeployment("Cancelled", script: "sleep 300 &\necho \"child $! $(id -u)\"\nwait")
            let log = try await h.log(of: cancelled, containing: "child ")
            let second = try #require(log.firstMatch(of: /child (\d+) (\d+)/), "\(log)")
            if geteuid() == 0 {
                #expect(
                    !Self.liveProcesses(uid: try #require(UInt32(second.output.2))).isEmpty, "the script's child is not running")
            }
            #expect(try await h.berth(["task", "cancel", cancelled]).status == 0)
            #expect(try await h.berth(["task", "log", cancelled, "--follow"]).status == 6)
            try await Self.expectGone(second.output, "the cancelled script's child kept running")
        }
    }

    @Test(
        "A server killed while a script runs leaves neither the script nor its variables on disk: its worker process takes the script with it, or (in-process) the next start sweeps it",
        arguments: [["--builtin-worker", "on"], ["--builtin-worker", "in-process"]])
    func crashLeavesNoVariablesFile(mode: [String]) async throws {
        try await Self.withHarness(arguments: mode) { h in
            let secret = "crash-secret-\(UUID().uuidString)"
            let task = try await h.startDeployment(
                "Crash", script: "test -n \"#{Token}\"\necho \"ready $$ $(id -u)\"\nsleep 300", sensitive: ["Token": secret])
            let log = try await h.log(of: task, containing: "ready ")
            let ready = try #require(log.firstMatch(of: /ready (\d+) (\d+)/), "\(log)")
            try await h.server.killNow()
            if mode.last == "on" {
                guard geteuid() == 0 else {
                    // Without namespaces (not root) the script's session outlives the worker.
                    kill(-(Int32(ready.output.1) ?? 0), SIGKILL)
                    return
                }
                // The worker's namespace ends with the server: the script with it, at once.
                try await Self.expectGone(ready.output, "the script outlived the killed server and its worker")
                let files =
                    FileManager.default.enumerator(at: h.temporary, includingPropertiesForKeys: nil)?
                    .compactMap { $0 as? URL } ?? []
                for file in files {
                    let text = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
                    #expect(!text.contains(secret), "\(file.path) holds the script's secret")
                }
                // The next start removes what the killed worker left in its home.
                #expect(files.contains { $0.lastPathComponent.hasPrefix("berth-builtin-worker-") })
                let restarted = try await BerthServerProcess.start(
                    dataDirectory: h.server.dataDirectory, environment: ["HOME": h.root.path, "TMPDIR": h.temporary.path],
                    apiKey: h.server.apiKey, arguments: ["--script-uid-range", h.uidRange])
                let ownHome = "berth-builtin-worker-\(restarted.processIdentifier)-"
                func homes() throws -> [String] {
                    try FileManager.default.contentsOfDirectory(atPath: h.temporary.path).filter {
                        $0.hasPrefix("berth-builtin-worker-")
                    }
                }
                for _ in 0..<100 {
                    let now = try homes()
                    if now.count == 1 && now[0].hasPrefix(ownHome) { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let left = try homes()
                #expect(left.count == 1 && left[0].hasPrefix(ownHome), "\(left)")
                _ = try await restarted.terminate()
                return
            }
            let script = try #require(Int32(ready.output.1))
            defer { kill(-script, SIGKILL) }
            #expect(!Self.isGone(script), "the script died with the server: nothing to sweep")
            let forms = [secret, Data(secret.utf8).base64EncodedString()]
            let files =
                FileManager.default.enumerator(at: h.temporary, includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL } ?? []
            // The scan looks where the server puts a script's files: its HOME is left there by the crash.
            #expect(files.contains { $0.lastPathComponent.hasPrefix("berth-script-") }, "no script files in \(h.temporary.path)")
            for file in files {
                let text = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
                #expect(!forms.contains { text.contains($0) }, "\(file.path) holds the script's secret")
            }
            // The next start of a server on this machine kills what the killed one's script left running.
            guard geteuid() == 0 else { return }
            let restarted = try await BerthServerProcess.start(
                dataDirectory: h.server.dataDirectory, environment: ["HOME": h.root.path, "TMPDIR": h.temporary.path],
                apiKey: h.server.apiKey, arguments: ["--script-uid-range", h.uidRange] + mode)
            for _ in 0..<100 where !Self.isGone(script) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(Self.isGone(script), "the script of the killed server still runs after a restart")
            _ = try await restarted.terminate()
        }
    }

    @Test("--value-stdin keeps every line of a multi-line secret, and a script printing one of its lines prints ********")
    func multiLineSecret() async throws {
        try await Self.withHarness { h in
            let pem = """
                -----BEGIN PRIVATE KEY-----
                MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj
                MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu
                -----END PRIVATE KEY-----
                """
            let lines = pem.split(separator: "\n").map(String.init)
            let task = try await h.startDeployment(
                "Pem",
                script: """
                    echo "lines $(printf '%s' "#{Pem}" | wc -l)"
                    echo "#{Pem}" | sed -n 2p
                    echo "#{Pem}" | sed -n 3p
                    echo "#{Pem}"
                    echo "done"
                    """,
                sensitive: ["Pem": pem + "\n"])
            let log = try await h.log(of: task, containing: "done")
            // Four lines, three newlines: the whole value arrived, without the trailing newline.
            #expect(log.contains("lines 3"), "\(log)")
            for line in lines { #expect(!log.contains(line), "\(line) leaked:\n\(log)") }
            #expect(log.components(separatedBy: "********").count - 1 >= 6, "\(log)")

            // The same reader serves --secret-key-stdin: an empty standard input is refused by name.
            let empty = try await h.berth(
                ["account", "create", "aws", "--name", "empty", "--access-key", "AKIAEXAMPLE", "--secret-key-stdin"], stdin: "\n")
            #expect(empty.status == 2)
            #expect(empty.standardError.contains("--secret-key-stdin was given but standard input is empty."), "\(empty)")
        }
    }
}
