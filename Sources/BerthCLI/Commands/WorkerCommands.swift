import AWSCore
import AWSCredentials
import ArgumentParser
import AsyncHTTPClient
import BerthAPI
import BerthDomain
import BerthWorker
import CBerthSandbox
import Foundation
import Logging
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// `berth worker …`: register and run an external worker, and manage the registered ones.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run an external worker, or list, show and delete registered ones.",
        subcommands: [Register.self, Run.self, List.self, Show.self, Delete.self, BuiltIn.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register this machine as a worker of a pool, with the pool's registration token.",
            discussion:
                "Stores the worker's credential in --config (mode 0600); `berth worker run` then uses it. Make a token with `berth worker-pool token POOL`."
        )
        @Option(help: "The Berth server's URL, as the worker reaches it.") var server: String
        @Option(help: "The worker pool to join.") var pool: String
        @Option(help: "The worker's name, unique in its pool (default: the host name).")
        var name: String = ProcessInfo.processInfo.hostName
        @Option(help: "The pool's registration token (default: BERTH_WORKER_TOKEN).") var token: String?
        @Option(help: "Where to store the worker's credential (default: BERTH_WORKER_CONFIG, then ~/.config/berth/worker.json).")
        var config: String?

        func run() async throws {
            guard let token = token ?? ProcessInfo.processInfo.environment["BERTH_WORKER_TOKEN"], !token.isEmpty else {
                throw CLIFailure.usage("A registration token is needed: pass --token or set BERTH_WORKER_TOKEN.")
            }
            guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw CLIFailure.usage("--server '\(server)' is not an http(s) URL.")
            }
            let path = config ?? WorkerCredentialFile.defaultPath()
            let answer = try await WorkerCommand.calling(server) {
                try await JobProtocolClient(server: url, credential: nil).register(
                    .init(pool: pool, name: name, token: token, version: BerthVersion.current))
            }
            try WorkerCredentialFile(
                server: server, workerID: answer.workerID, name: answer.name, pool: answer.pool, credential: answer.credential
            ).save(to: path)
            print("Registered the worker '\(answer.name)' in the pool '\(answer.pool)'; its credential is in \(path).")
            print("Start it with: berth worker run\(config.map { " --config \($0)" } ?? "")")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the registered worker: take its pool's step jobs from the server until stopped.",
            discussion:
                "Only outbound connections to the server. Targets that use the worker's credentials get them from this process's environment: AWS_* variables, a profile, a web identity token file, container credentials or IMDSv2."
        )
        @Option(help: "The worker's credential file (default: BERTH_WORKER_CONFIG, then ~/.config/berth/worker.json).")
        var config: String?
        @Option(help: "The most jobs run at once (1-64).") var concurrency = 4
        @OptionGroup(title: "Scripts") var scripts: ScriptOptions
        @Option(
            name: .customLong("deployment-poll-interval"),
            help: "The longest gap in seconds between a job's questions to ECS (default 5).")
        var deploymentPollInterval: Double = 5
        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel: String = "info"

        func validate() throws {
            guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 64.") }
            guard (0.05...300).contains(deploymentPollInterval) else {
                throw ValidationError("--deployment-poll-interval must be 0.05 to 300 seconds.")
            }
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level '\(logLevel)' is not a log level.")
            }
        }

        func run() async throws {
            let file = try WorkerCredentialFile.load(from: config ?? WorkerCredentialFile.defaultPath())
            guard let server = URL(string: file.server) else {
                throw CLIFailure("The worker credential names the server '\(file.server)', which is not a URL.")
            }
            let scripts = try scripts.scriptUser(for: .worker)
            // Scripts that run as this process's user cannot read its memory or environment.
            _ = berth_make_undumpable()
            Console.line("Worker '\(file.name)' of the pool '\(file.pool)' is taking jobs from \(file.server).")
            try await WorkerCommand.serve(
                server: server, credential: file.credential, name: file.name, certificatePEM: nil,
                concurrency: concurrency, scripts: scripts, deploymentPollInterval: deploymentPollInterval, logLevel: logLevel)
        }
    }

    /// `berth worker builtin`: the built-in worker, as a node starts it — a separate process,
    /// unprivileged, with a clean environment, that reads where the server is and its credential
    /// on standard input. Not for people to run.
    struct BuiltIn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "builtin", abstract: "The built-in worker process a server starts (not run by hand).",
            shouldDisplay: false)
        @Option(help: "The most jobs run at once.") var concurrency = 100
        @OptionGroup(title: "Scripts") var scripts: ScriptOptions
        @Option(name: .customLong("deployment-poll-interval")) var deploymentPollInterval: Double = 5
        @Option(name: .customLong("log-level")) var logLevel: String = "info"

        func validate() throws {
            guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 10000.") }
            guard (0.05...300).contains(deploymentPollInterval) else {
                throw ValidationError("--deployment-poll-interval must be 0.05 to 300 seconds.")
            }
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level '\(logLevel)' is not a log level.")
            }
        }

        func run() async throws {
            // First: nothing of this process (its credential, its jobs) is readable by its scripts.
            guard berth_make_undumpable() == 0 else {
                throw CLIFailure("The built-in worker cannot protect its memory: \(String(cString: strerror(errno))).")
            }
            let input = FileHandle.standardInput.readDataToEndOfFile()
            let handoff: BuiltInWorkerHandoff
            do {
                handoff = try JSONDecoder().decode(BuiltInWorkerHandoff.self, from: input)
            } catch {
                throw CLIFailure(
                    "The built-in worker is started by the server, which writes its credential on standard input; that input was not one (\(error)).",
                    exitCode: BerthExitCode.usage)
            }
            guard let server = URL(string: handoff.server) else {
                throw CLIFailure("The built-in worker was given the server '\(handoff.server)', which is not a URL.")
            }
            try await WorkerCommand.serve(
                server: server, credential: handoff.credential, name: handoff.name,
                certificatePEM: handoff.certificatePEM, concurrency: concurrency,
                scripts: try scripts.scriptUser(for: .server), deploymentPollInterval: deploymentPollInterval,
                logLevel: logLevel, warnAboutScripts: false)
        }
    }

    /// Takes jobs from `server` with `credential` until SIGTERM or SIGINT: the agent and the
    /// shared rollout pollers, with connections enough for every running job and the claim.
    static func serve(
        server: URL, credential: String, name: String, certificatePEM: String?, concurrency: Int, scripts: ScriptUser,
        deploymentPollInterval: Double, logLevel: String, warnAboutScripts: Bool = true
    ) async throws {
        var logger = Logger(label: "berth.worker")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // The built-in worker's server has said it already, for the same settings.
        if warnAboutScripts, let warning = scripts.startupWarning() { logger.warning("\(warning)") }
        let poll = Duration.milliseconds(Int(deploymentPollInterval * 1000))
        let configuration = WorkerConfiguration(
            environment: .process, deploymentPollInterval: poll, scriptUser: scripts, logger: logger)
        let watchers = ServiceWatchHub(interval: poll, clock: configuration.clock, logger: logger)
        let cleanup = CleanupCalls()
        let worker = StepWorker(
            configuration: configuration, watchers: watchers, cleanup: cleanup, registry: CredentialCacheRegistry())
        var http = HTTPClient.Configuration()
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency + 2
        if let certificatePEM {
            // The loopback address is not the certificate's name: trust this certificate, by itself.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .noHostnameVerification
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)))]
            http.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        let agent = WorkerAgent(
            client: JobProtocolClient(server: server, credential: credential, http: client), worker: worker, name: name,
            concurrency: concurrency, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: watchers), .init(service: cleanup), .init(service: agent)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
            try await client.shutdown()
        } catch {
            // The worker's own failure is what to report; a client that will not close only adds a line.
            do { try await client.shutdown() } catch { logger.warning("The HTTP client did not shut down: \(error)") }
            throw error
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered workers of the space's pools.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call { try await $0.listWorkers(path: .init(space: options.space)) }
            switch output {
            case .ok(let ok): print(try WorkerPrinter.render(try ok.body.json.items, options.output))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a worker: pool, version, last contact, running jobs.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The worker's name or id.") var worker: String

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.getWorker(path: .init(space: options.space, worker: worker))
            }
            switch output {
            case .ok(let ok): print(try WorkerPrinter.render([try ok.body.json], options.output, single: true))
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a worker: its credential stops working at once; its jobs go to other workers of the pool.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The worker's name or id.") var worker: String

        func run() async throws {
            let client = try options.connect()
            let output = try await client.call {
                try await $0.deleteWorker(path: .init(space: options.space, worker: worker))
            }
            switch output {
            case .noContent: print(options.output == .json ? "{}" : "Deleted the worker '\(worker)'.")
            case .default(let status, let error): throw BerthClient.failure(status, error)
            }
        }
    }

    /// Runs a job-protocol call, turning its failures into the CLI's.
    static func calling<Answer>(_ server: String, _ call: () async throws -> Answer) async throws -> Answer {
        do {
            return try await call()
        } catch let failure as JobProtocolClient.Failure {
            throw CLIFailure(failure.message)
        } catch let error as BerthError {
            throw CLIFailure(error.message)
        } catch {
            throw CLIFailure("The Berth server at \(server) could not be reached: \(error)", exitCode: BerthExitCode.unreachable)
        }
    }
}

enum WorkerPrinter {
    static func render(_ workers: [Components.Schemas.Worker], _ format: OutputFormat, single: Bool = false) throws -> String {
        switch format {
        case .json: return try single ? Output.json(workers[0]) : Output.json(workers)
        case .table:
            let formatter = ISO8601DateFormatter()
            return Output.table(
                ["NAME", "POOL", "STATUS", "RUNNING JOBS", "VERSION", "LAST CONTACT", "ID"],
                workers.map {
                    [
                        $0.name, $0.builtIn ? "\($0.pool) (built-in)" : $0.pool, $0.status.rawValue, String($0.runningJobs),
                        $0.version,
                        $0.lastContactAt.map(formatter.string(from:)) ?? "never", $0.id,
                    ]
                })
        }
    }
}
