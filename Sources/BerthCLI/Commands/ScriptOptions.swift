import ArgumentParser
import BerthDomain
import BerthWorker

/// Whom Run AWS CLI script steps run as: the options `berth server` (its built-in worker) and
/// `berth worker run` share.
struct ScriptOptions: ParsableArguments {
    @Option(
        name: .customLong("script-user"),
        help: "The unprivileged OS user that Run AWS CLI script steps run as when Berth runs as root; it must exist.")
    var scriptUser: String = ScriptUser.defaultName
    @Flag(
        name: .customLong("allow-root-scripts"),
        help: "Run scripts as root when the script user does not exist: they can then read every secret Berth holds there.")
    var allowRootScripts = false
    @Option(
        name: .customLong("script-uid-range"),
        help: ArgumentHelp(
            "The user ids that scripts run under, one of its own per running script, with the script user's group (START-END; default \(ScriptUIDPool.defaultRange.lowerBound)-\(ScriptUIDPool.defaultRange.upperBound)); servers and workers on one machine never share one.",
            valueName: "start-end"))
    var scriptUIDRange = "\(ScriptUIDPool.defaultRange.lowerBound)-\(ScriptUIDPool.defaultRange.upperBound)"

    func validate() throws {
        guard !scriptUser.isEmpty else { throw ValidationError("--script-user needs a user name.") }
        do {
            _ = try ScriptUIDPool.parseRange(scriptUIDRange)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The policy these options describe, for scripts that `runner` runs.
    func scriptUser(for runner: ScriptUser.Runner) throws -> ScriptUser {
        ScriptUser(
            name: scriptUser, allowRoot: allowRootScripts,
            uids: ScriptUIDPool(range: try ScriptUIDPool.parseRange(scriptUIDRange)),
            runner: runner)
    }
}
