import AWSCore
import ArgumentParser
import BerthDev
import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import BerthUseCases
import BerthWorker
import CBerthSandbox
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

/// `berth server`: the Berth server, or with `--dev` a throwaway one for trying Berth out.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the Berth server (REST API, task runner, health-check schedule).",
        discussion: """
            The first start initialises the data directory: a master key file (mode 0600) that seals every \
            secret, the database, and an administrator API key that is printed once. Stop it with Ctrl-C or \
            SIGTERM; running tasks are recorded as cancelled and nothing is lost.
            """,
        subcommands: [ResetAdminKeyCommand.self])

    @Option(name: .customLong("data-dir"), help: "The data directory.") var dataDirectory: String = "./berth-data"
    @Option(help: "Address to listen on, HOST:PORT.") var listen: String = "127.0.0.1:8080"
    @Option(
        name: .customLong("public-url"),
        help: "The URL users and AWS reach this server at: the OIDC issuer; AWS requires HTTPS (default http://LISTEN).")
    var publicURL: String?
    @Option(name: .customLong("oidc-algorithm"), help: "The algorithm of OIDC signing keys: RS256 (default) or ES256.")
    var oidcAlgorithm: OIDCCommand.Rotate.Algorithm = .RS256
    @Option(
        help: ArgumentHelp(
            "sqlite:PATH (default: berth.sqlite in the data directory) or postgres://user@host:5432/db.",
            discussion:
                "A password on the command line can be read by every user of the machine (/proc/PID/cmdline), a script's user included: set BERTH_DATABASE_URL instead."
        ))
    var database: String?

    /// `--database`, else `BERTH_DATABASE_URL` (where a password stays out of the process list).
    var databaseURL: String? {
        database ?? ProcessInfo.processInfo.environment["BERTH_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Said at start when `--database` carries a password, which every local user can read.
    var databasePasswordWarning: String? {
        guard let database, let url = URLComponents(string: database), url.password?.isEmpty == false else { return nil }
        return
            "WARNING: --database carries a password, which every user of this machine can read in /proc/\(getpid())/cmdline (a script's user too). Set BERTH_DATABASE_URL instead."
    }
    @Option(
        name: .customLong("health-check-interval"),
        help: "Seconds between scheduled health checks of every target; 0 turns them off.")
    var healthCheckInterval: Int = 3600
    @Option(
        name: .customLong("deployment-poll-interval"),
        help:
            "The longest gap in seconds between a deployment's questions to ECS: young rollouts are asked every second, backing off to this (one DescribeServices per cluster for all its services)."
    )
    var deploymentPollInterval: Double = 5
    @OptionGroup(title: "Scripts") var scripts: ScriptOptions
    @Option(
        name: .customLong("node-name"),
        help: ArgumentHelp(
            "This node's name in a cluster of servers on one PostgreSQL; unique per node, kept across restarts (default: the host name).",
            valueName: "name"))
    var nodeName: String = ProcessInfo.processInfo.hostName
    @Option(name: .customLong("task-cap"), help: "The most tasks this node runs at once (default 100).")
    var taskCap = 100
    @Option(
        name: .customLong("task-lease"),
        help:
            "Seconds a node's claim on a task lasts without renewal (renewed every third of it); after that another node takes the task over (default 15)."
    )
    var taskLease: Double = 15
    @Option(
        name: .customLong("builtin-worker"),
        help: ArgumentHelp(
            "on: this node runs the default pools' steps in a separate, unprivileged worker process; in-process: inside the server's own process; off: on external workers (berth worker) only.",
            discussion:
                "As root, the worker process runs as the script user in user, PID and mount namespaces of its own (the machine must allow user namespaces)."
        ))
    var builtInWorker: BuiltInWorkerSettings.Mode = .separateProcess
    @Option(
        name: .customLong("job-lease"),
        help:
            "Seconds an external worker holds a step job without renewing it; after that another worker of the pool carries the step on (default 30)."
    )
    var jobLease: Double = 30
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
    @Flag(
        help:
            "A throwaway server for trying Berth: temporary data, and (when moto is installed) a local AWS emulator with a simulated ECS and a demo project ready to deploy."
    )
    var dev = false
    @OptionGroup(title: "HTTP") var http: ServerHTTPOptions
    @Option(name: .customLong("max-task-log-lines"), help: "The most lines one task's log keeps (default 100000).")
    var maxTaskLogLines = 100_000
    @Option(
        name: .customLong("audit-retention-days"),
        help: ArgumentHelp(
            "Remove audit events older than this many days (checked hourly; the chain stays verifiable from the cut). 0 keeps them for ever (the default).",
            valueName: "days"))
    var auditRetentionDays = 0

    func validate() throws {
        guard healthCheckInterval >= 0 else { throw ValidationError("--health-check-interval must be 0 or more seconds.") }
        guard (0...36500).contains(auditRetentionDays) else {
            throw ValidationError("--audit-retention-days must be 0 (keep for ever) to 36500 days; got \(auditRetentionDays).")
        }
        guard (0.05...300).contains(deploymentPollInterval) else {
            throw ValidationError("--deployment-poll-interval must be 0.05 to 300 seconds.")
        }
        guard (1...200).contains(nodeName.count), !nodeName.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ValidationError("--node-name '\(nodeName)' must be 1 to 200 characters, without spaces or '/'.")
        }
        guard (1...10_000).contains(taskCap) else { throw ValidationError("--task-cap must be 1 to 10000.") }
        guard (3...600).contains(taskLease) else { throw ValidationError("--task-lease must be 3 to 600 seconds.") }
        guard (3...600).contains(jobLease) else { throw ValidationError("--job-lease must be 3 to 600 seconds.") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not a log level.")
        }
        guard (100...10_000_000).contains(maxTaskLogLines) else {
            throw ValidationError("--max-task-log-lines must be 100 to 10000000.")
        }
        _ = try parsedListen()
        if let databaseURL { _ = try DatabaseConfiguration(parsing: databaseURL) }
    }

    func parsedListen() throws -> (host: String, port: Int) {
        do {
            return try ServerConfiguration.parseListen(listen)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        // Before the server's threads allocate: a long-running server keeps less memory in reserve.
        MemoryTrimmer.limitArenas()
        // Processes of the server's user (scripts, when it is not root) cannot read its memory or
        // environment through /proc.
        _ = berth_make_undumpable()
        var logger = Logger(label: "berth")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let environment = ProcessInfo.processInfo.environment
        guard dev else {
            return try await serve(
                dataDirectory: URL(fileURLWithPath: dataDirectory), environment: environment, devEnvironment: nil,
                registry: registry, logger: logger)
        }
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-dev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        try await DevEnvironment.run(logger: logger, announce: Console.line) { devEnvironment in
            try await serve(
                dataDirectory: dataDirectory, environment: environment.merging(devEnvironment.environment) { _, new in new },
                devEnvironment: devEnvironment, registry: registry, logger: logger)
        }
    }

    func serve(
        dataDirectory: URL, environment: [String: String], devEnvironment: DevEnvironment?,
        registry: PrometheusCollectorRegistry, logger: Logger
    ) async throws {
        let (host, port) = try parsedListen()
        var scriptUser = try scripts.scriptUser(for: .server)
        if dev, geteuid() == 0, !scriptUser.exists, !scripts.allowRootScripts {
            // A throwaway server should deploy its demo out of the box, and creating an OS user is
            // not something trying Berth should do behind one's back: say what happens instead.
            scriptUser.allowRoot = true
            Console.line(
                "Scripts run as root in this throwaway server: the user \(scriptUser.name) does not exist. To run them as a real server would, create it (\(scriptUser.creationCommand)) and restart."
            )
        } else if let warning = scriptUser.startupWarning() {
            logger.warning("\(warning)")
        }
        var settings = ServerConfiguration(
            dataDirectory: dataDirectory, host: host, port: port, publicURL: publicURL,
            database: try databaseURL.map(DatabaseConfiguration.init(parsing:)), environment: environment,
            engine: EngineConfiguration(
                environment: EnvironmentVariables(environment), maximumConcurrentTasks: taskCap,
                node: TaskOwner(node: nodeName),
                healthCheckInterval: healthCheckInterval == 0 ? nil : .seconds(healthCheckInterval),
                deploymentPollInterval: .milliseconds(Int(deploymentPollInterval * 1000)), scriptUser: scriptUser,
                logger: logger),
            oidcAlgorithm: oidcAlgorithm == .ES256 ? .es256 : .rs256, logger: logger)
        settings.http = try http.settings
        settings.engine.maximumLogLines = maxTaskLogLines
        settings.engine.auditRetention = auditRetentionDays == 0 ? nil : .seconds(auditRetentionDays * 86_400)
        settings.engine.taskLease = .milliseconds(Int(taskLease * 1000))
        settings.engine.leaseRenewal = .milliseconds(Int(taskLease * 1000 / 3))
        settings.builtInWorker = BuiltInWorkerSettings(
            mode: builtInWorker, concurrency: taskCap, logLevel: logger.logLevel)
        if builtInWorker == .separateProcess, geteuid() == 0, scriptUser.allowRoot, (scriptUser.account?.uid ?? 0) == 0 {
            // Root scripts were accepted: the worker process has no unprivileged user to run as.
            settings.builtInWorker.mode = .inProcess
            Console.line(
                "The built-in worker runs inside the server's process: the script user \(scriptUser.name) \(scriptUser.exists ? "is root" : "does not exist") (name an unprivileged one to run the worker as a separate, unprivileged process)."
            )
        }
        settings.engine.jobLease = .milliseconds(Int(jobLease * 1000))
        let configuration = settings
        if let warning = configuration.plaintextWarning { Console.line(warning) }
        if let warning = databasePasswordWarning { Console.line(warning) }
        let dataDescription = dev ? "temporary" : dataDirectory.path
        let server = try await BerthServer.build(configuration, metrics: registry) { boundPort in
            let url = configuration.effectivePublicURL(boundPort: boundPort)
            Console.line("Berth is listening on \(url) (data: \(dataDescription), database: \(configuration.effectiveDatabase)).")
        }
        if server.createdMasterKey {
            Console.line(
                "Created the master key \(dataDirectory.appendingPathComponent(MasterKey.fileName).path); back it up: without it no secret can be read."
            )
        }
        if let key = server.administratorKey {
            Console.line("Administrator API key (shown once):\n  \(key)")
            Console.line(
                "Log in with: berth login --server \(configuration.http.tls == nil ? "http" : "https")://\(host):\(port) --api-key \(key)"
            )
        }
        let address = "\(configuration.http.tls == nil ? "http" : "https")://\(host):\(port)"
        if let devEnvironment {
            try await devEnvironment.seed(server: server, logger: logger)
            // The demo's administrator has no password: a one-time link logs the browser in.
            let administrator = try await server.useCases.requester(
                actingAs: User.administratorName, keyName: "berth server --dev")
            let link = try await server.useCases.createLoginLink(for: User.administratorName, by: administrator)
            Console.line(
                "Web UI: \(address)/ — log in once with \(address)/login/link/\(link.token) (then set a password on your profile page)."
            )
        } else if server.administratorKey != nil {
            Console.line(
                "Web UI: \(address)/ — users log in with a password; `berth user login-link administrator` makes a one-time link to set one."
            )
        }
        try await server.run()
    }
}

/// `on` or `off`, for flags that turn a part of the server on or off.
enum Switch: String, ExpressibleByArgument, CaseIterable {
    case on
    case off
}

extension BuiltInWorkerSettings.Mode: ExpressibleByArgument {}
