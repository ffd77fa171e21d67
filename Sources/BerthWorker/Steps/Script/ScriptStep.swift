import AWSCore
import AWSCredentials
import AWSSigV4
import BerthDomain
import Foundation
import Logging

/// "Run AWS CLI script": a bash script on the worker, with the target's credentials in the standard
/// AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// `AWS_DEFAULT_REGION`) and the worker's `AWS_ENDPOINT_URL*`, so `aws …` just works.
///
/// The script is a step property, so `#{Name}` works in it. It can also read variables with
/// `get_berthvariable NAME` and set output variables with `set_berthvariable NAME VALUE
/// [-sensitive]` (available to later steps as `Berth.Action[Step].Output.NAME`; sensitive ones are
/// masked from the moment they are set). Standard output is logged as info, standard error as
/// warnings; a non-zero exit fails the step.
///
/// The script runs as ``ScriptUser`` (not as the server's root) under a uid of its own from
/// ``ScriptUIDPool``, through ``ScriptProcess`` (its own session, killed with every process it
/// started on cancel and timeout, and every process left under its uid killed when it ends), in a
/// temporary home of its own, with umask 077 and only `PATH`, `HOME`, `USER`, `LOGNAME` and its
/// AWS variables in its environment.
///
/// Properties: `script` (required), `timeoutSeconds` (1–86,400; default 3,600); for a step without
/// target roles, `region` and the credentials of ``ScriptCredentials`` (`account`, `assumeRoleArn`, …).
struct ScriptStep {
    let run: StepRun

    static let serviceMessagePrefix = "##berth[setVariable "
    /// `timeoutSeconds` when the step does not say.
    static let defaultTimeoutSeconds = 3600
    /// What `timeoutSeconds` may be: a second to a day.
    static let timeoutRange = 1...86_400

    func execute() async throws -> StepOutcome {
        let script = try run.properties.requiredString("script")
        let timeout = try run.properties.int("timeoutSeconds", in: Self.timeoutRange) ?? Self.defaultTimeoutSeconds
        let lease = try leaseIdentity()
        // From here the lease is given back exactly once: by the process when it ran (after every
        // process under its uid is killed), or below when the script never started.
        var handedOver = false
        defer { if !handedOver { lease?.releaseUnused() } }
        let user: ScriptUser.Resolution = lease.map { .user($0.account) } ?? .server
        let (executable, arguments) = try launch(as: user)
        let home = try ScriptHome.create(owner: user, logger: run.configuration.logger)
        defer { home.remove(logger: run.configuration.logger) }
        // The script and the variables, secrets included, are in a file without a name from before
        // a byte is written to it: nothing of them is left on disk when the server is killed.
        let descriptor = try home.unnamedFile(containing: Self.prelude(try Self.variableLines(run.variables)) + script + "\n")
        defer { close(descriptor) }

        var environment = passThroughEnvironment()
        environment["HOME"] = home.path
        if case .user(let account) = user {
            // The uid has no passwd entry: tools that ask who they are read these.
            environment["USER"] = account.name
            environment["LOGNAME"] = account.name
        }
        let region = run.region
        environment["AWS_REGION"] = region
        environment["AWS_DEFAULT_REGION"] = region
        if let credentials = run.credentials {
            let current = try await credentials.provider.credentials()
            environment["AWS_ACCESS_KEY_ID"] = current.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = current.secretAccessKey
            environment["AWS_SESSION_TOKEN"] = current.sessionToken
            await run.log.writer.addSensitive([current.secretAccessKey] + [current.sessionToken].compactMap(\.self))
            await run.log.verbose(
                "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\(current.sessionToken == nil ? "" : ", AWS_SESSION_TOKEN"), AWS_REGION and AWS_DEFAULT_REGION (\(region)) are set for the script."
            )
        }
        let who =
            switch user {
            case .server: "as \(ScriptUser.lookUp(uid: geteuid()) ?? "uid \(geteuid())"), the server's own user"
            case .user(let account): "as \(account.name) (uid \(account.uid), the script's own)"
            }
        await run.log.info("Running the script with \(run.configuration.bash) \(who) (timeout \(timeout) s).")
        var outputs: [String: String] = [:]
        var sensitive: Set<String> = []
        let configuration = run.configuration
        var process = ScriptProcess(
            executable: executable, arguments: arguments, environment: environment, directory: home.path,
            descriptor: descriptor)
        if let lease {
            process.afterExit = {
                do {
                    let survivors = try lease.killProcessesAndRelease(
                        setpriv: configuration.setpriv, bash: configuration.bash)
                    if !survivors.isEmpty {
                        configuration.logger.warning(
                            "Processes \(survivors) of a script's uid \(lease.uid) survived SIGKILL; the uid stays taken.")
                    }
                } catch {
                    configuration.logger.error(
                        "What a script left under its uid \(lease.uid) could not be looked for; the uid stays taken.",
                        metadata: ["error": "\(error)"])
                }
            }
        }
        // From here the script may have run, in part or in whole: a node that adopts the deployment
        // does not run it again.
        let starting = run.configuration.clock.now()
        try await run.checkpoint.record { $0.scriptStartedAt = starting }
        handedOver = true
        let exit = try await process.run(timeout: .seconds(timeout), clock: run.configuration.clock) { line, isError in
            if !isError, line.hasPrefix(Self.serviceMessagePrefix), let message = Self.parseSetVariable(line) {
                if message.sensitive {
                    await run.log.writer.addSensitive([message.value])
                    sensitive.insert(message.name)
                }
                outputs[message.name] = message.value
                await run.log.info(
                    "Output variable \(message.name) set\(message.sensitive ? " (sensitive)" : ": \(message.value)").")
                return
            }
            await run.log.write(isError ? .warning : .info, line)
        }
        if exit.timedOut {
            return StepOutcome(
                state: .timedOut,
                message:
                    "the script did not end within \(timeout) s (timeoutSeconds); it was killed with every process it started",
                outputs: outputs)
        }
        guard exit.status == 0 else {
            return StepOutcome(state: .failed, message: "the script exited with code \(exit.status)", outputs: outputs)
        }
        var outcome = StepOutcome.succeeded(outputs)
        outcome.sensitiveOutputs = sensitive
        return outcome
    }

    /// Whom the script runs as: nil for the server's own user, else a uid of its own with the
    /// script user's group.
    func leaseIdentity() throws(BerthError) -> ScriptUIDLease? {
        let scriptUser = run.configuration.scriptUser
        guard case .user(let group) = try scriptUser.resolve() else { return nil }
        return try scriptUser.uids.lease(group: group)
    }

    /// bash reading the script from descriptor 3, started as `user` through `setpriv`: real and
    /// effective ids of the user, its group alone (none of root's), and no way back up
    /// (`--no-new-privs` makes setuid programs such as sudo powerless). setpriv execs bash in the same process, so
    /// the process group the script is killed with is bash's own.
    func launch(as user: ScriptUser.Resolution) throws(BerthError) -> (executable: String, arguments: [String]) {
        let bash = [run.configuration.bash, "/dev/fd/3"]
        guard case .user(let account) = user else { return (run.configuration.bash, Array(bash.dropFirst())) }
        let setpriv = run.configuration.setpriv
        guard FileManager.default.isExecutableFile(atPath: setpriv) else {
            throw BerthError(
                .internalError,
                "Scripts run as \(account.name) through \(setpriv), which is missing; install util-linux (apt-get install util-linux)."
            )
        }
        return (setpriv, ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--no-new-privs", "--"] + bash)
    }

    /// The worker's `PATH` and every `AWS_ENDPOINT_URL*`/`AWS_CA_BUNDLE`; nothing else of the
    /// server's environment.
    func passThroughEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for (name, value) in run.configuration.environment.values
        where ["PATH", "AWS_CA_BUNDLE"].contains(name) || name.hasPrefix("AWS_ENDPOINT_URL") {
            environment[name] = value
        }
        environment["PATH"] = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return environment
    }

    /// The most variable text one script is handed (before base64): each value is at most 1 MiB,
    /// but a project may have thousands.
    static let maximumVariableBytes = 16 << 20

    /// One line per variable: lower-cased name and evaluated value, each base64.
    /// - Throws: when the values come to more than ``maximumVariableBytes``, naming the largest.
    static func variableLines(_ variables: VariableDictionary) throws(BerthError) -> String {
        let values = variables.all.map { (name: $0.name, value: variables.evaluated($0.name) ?? $0.value) }
        let total = values.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        guard total <= maximumVariableBytes else {
            let largest = values.sorted { $0.value.utf8.count > $1.value.utf8.count }.prefix(3)
                .map { "\($0.name) (\($0.value.utf8.count / 1024) KiB)" }.joined(separator: ", ")
            throw BerthError(
                .validationFailed,
                "The script's \(values.count) variables come to \(total / 1024 / 1024) MiB, more than the \(maximumVariableBytes >> 20) MiB a script is given; the largest: \(largest)."
            )
        }
        return values.map { name, value in
            Data(name.lowercased().utf8).base64EncodedString() + " " + Data(value.utf8).base64EncodedString()
        }.joined(separator: "\n") + "\n"
    }

    static func parseSetVariable(_ line: String) -> (name: String, value: String, sensitive: Bool)? {
        func attribute(_ name: String) -> String? {
            guard let start = line.range(of: "\(name)=\"") else { return nil }
            guard let end = line[start.upperBound...].firstIndex(of: "\"") else { return nil }
            return String(line[start.upperBound..<end])
        }
        guard let name = attribute("name").flatMap({ Data(base64Encoded: $0) }).map({ String(decoding: $0, as: UTF8.self) }),
            let value = attribute("value").flatMap({ Data(base64Encoded: $0) }).map({ String(decoding: $0, as: UTF8.self) }),
            !name.isEmpty
        else { return nil }
        return (name, value, attribute("sensitive") == "True")
    }

    /// What runs before the script: closes descriptor 3 (bash reads the script through its own
    /// copy), then the helpers, with the variables inside the script's own text.
    static func prelude(_ variableLines: String) -> String {
        #"""
        exec 3<&-
        umask 077
        set -eo pipefail
        __berth_variables='\#(variableLines)'
        get_berthvariable() {
          local wanted line_name line_value
          wanted=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | base64 -w0)
          while read -r line_name line_value; do
            if [ "$line_name" = "$wanted" ]; then printf '%s' "$line_value" | base64 -d; return 0; fi
          done <<< "$__berth_variables"
          return 1
        }
        set_berthvariable() {
          local sensitive=False
          if [ "${3:-}" = "-sensitive" ]; then sensitive=True; fi
          printf '##berth[setVariable name="%s" value="%s" sensitive="%s"]\n' \
            "$(printf '%s' "$1" | base64 -w0)" "$(printf '%s' "$2" | base64 -w0)" "$sensitive"
        }

        """#
    }
}
