import BerthAPI
import BerthDomain
import BerthEngine
import BerthOIDC
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import ServiceLifecycle
import UnixSignals

/// A Berth server, built and ready to run: `main` and the tests both call `build(_:)`.
///
/// ```swift
/// let server = try await BerthServer.build(configuration)
/// if let key = server.administratorKey { print("API key: \(key)") }
/// try await server.run()
/// ```
public struct BerthServer: Sendable {
    public let application: Application<RouterResponder<BerthRequestContext>>
    public let store: BerthStore
    public let engine: Engine
    public let issuer: OIDCIssuer
    /// Seals secrets under this server's master key.
    public let secrets: SecretBox
    /// Every action, as the API calls it (and the dev seeding, and the web UI).
    public let useCases: UseCases
    /// The administrator API key made on the first start; shown once, never stored in clear.
    public let administratorKey: String?
    /// Whether this start created the data directory's master key.
    public let createdMasterKey: Bool
    /// Turns a failing service into a graceful shutdown under `run()`.
    let stop: ServerStop

    /// Opens (or initialises) the data directory and the database, and assembles the HTTP server,
    /// the task runner and the health-check schedule as one service group.
    public static func build(
        _ configuration: ServerConfiguration, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> BerthServer {
        // First what can be wrong with the built-in worker's settings: nothing is opened yet.
        let builtInLaunch = try Self.planBuiltInWorker(configuration)
        try PrivateFiles.prepareDataDirectory(configuration.dataDirectory)
        var lock: DataDirectoryLock?
        if case .sqlite(let path) = configuration.effectiveDatabase {
            lock = try DataDirectoryLock.acquire(configuration.dataDirectory)
            try PrivateFiles.prepareSQLite(path: path)
        }
        let (masterKey, createdMasterKey) = try MasterKey.loadOrCreate(
            dataDirectory: configuration.dataDirectory, environment: configuration.environment)
        let secrets = SecretBox(masterKey: masterKey)
        let store = try await BerthStore.open(configuration.effectiveDatabase, logger: configuration.logger)
        do {
            try await store.verifyMasterKey(secrets)
        } catch {
            await store.close()
            throw error
        }

        try await store.dateFirstRecords(at: Date())
        var administratorKey: String?
        if try await store.listAPIKeys().isEmpty {
            let (key, record) = APIKeyFactory.make(name: "administrator", at: Date())
            _ = try await store.createAPIKey(record)
            administratorKey = key
        }

        let issuer = OIDCIssuer(
            store: store, secrets: secrets,
            configuration: try OIDCIssuerConfiguration(
                publicURL: configuration.effectivePublicURL(), defaultAlgorithm: configuration.oidcAlgorithm,
                policy: configuration.oidcPolicy, clock: configuration.engine.clock),
            logger: configuration.logger)
        if let warning = issuer.configuration.httpsWarning {
            configuration.logger.warning("\(warning)")
        }
        try await issuer.maintain()

        var engineConfiguration = configuration.engine
        engineConfiguration.inProcessWorker = configuration.builtInWorker.mode == .inProcess
        let (engine, engineServices) = Engine.make(
            store: store, secrets: secrets, issuer: issuer, configuration: engineConfiguration)
        let apiKeys = APIKeyCache(store: store)
        let router = Router(context: BerthRequestContext.self)
        let routes = KnownRoutes()
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: BodyLimitMiddleware(maximumBytes: configuration.http.maximumBodySize))
        OperationsRoutes(store: store, node: configuration.engine.node.node, metrics: metrics).register(on: router)
        OIDCRoutes(issuer: issuer).register(on: router)
        let jobs = StepJobService(
            store: store, secrets: secrets, issuer: issuer, bell: engine.jobBell, configuration: engineConfiguration)
        WorkerRoutes(jobs: jobs, maximumBodyBytes: configuration.http.maximumBodySize, auditKey: secrets.auditChainKey)
            .register(on: router)
        let builtInWorker = builtInLaunch.map { launch in
            let address = BoundAddress()
            let supervisor = BuiltInWorkerSupervisor(
                jobs: jobs, launch: launch.launch, settings: configuration.builtInWorker, node: configuration.engine.node.node,
                address: address, certificatePEM: launch.certificatePEM, nodeStarted: engine.nodeStarted,
                logger: configuration.logger)
            return (supervisor: supervisor, address: address)
        }

        let useCases = UseCases(
            store: store, engine: engine, secrets: secrets, issuer: issuer, accessChanged: { await apiKeys.forgetAll() })
        let description = try APIDescription.load()
        let spaces = SpaceIDs(store: store)
        let api = router.group()
            .add(middleware: APIKeyAuthenticator(keys: apiKeys, browserSessions: useCases.browserRequester))
            .add(middleware: CallerMiddleware())
            .add(middleware: AuthorizationMiddleware(description: description, spaces: spaces))
            .add(middleware: APIValidationMiddleware(description: description))
        api.get("/api/openapi.yaml") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try BerthAPIDocument.yaml())))
        }
        let service = APIService(useCases: useCases, apiKeys: apiKeys)
        // Compact JSON: sorting keys and pretty-printing cost a third of a large list's time; dates
        // written without the runtime's shared, locked formatter. Target listings, the busiest
        // read, are cached, and written by `TargetListJSON` when they are not.
        try service.registerHandlers(
            on: api, serverURL: URL(string: "/api")!,
            configuration: .init(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: []),
            middlewares: [
                TargetListCache(store: store, spaces: spaces),
                TargetListResponder(service: service, spaces: spaces),
            ])
        try await WebUI.load(useCases: useCases, secrets: secrets, secure: configuration.http.tls != nil)
            .register(on: router)
        routes.record(router.routes.map { (path: $0.path.description, method: $0.method) })

        if let warning = configuration.plaintextWarning { configuration.logger.warning("\(warning)") }
        let stop = ServerStop()
        let running: [any Service] =
            engineServices + [KeyRotationService(issuer: issuer), MemoryTrimmer()]
            + (builtInWorker.map { [$0.supervisor] } ?? [])
        let application = Application(
            router: router, server: try configuration.http.serverBuilder(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "berth"),
            // The store is closed last, after every other service has stopped.
            services: [StoreCloser(store: store, lock: lock)]
                + running.map { StopsServerOnFailure(service: $0, stop: stop, logger: configuration.logger) },
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                issuer.listening(on: port)
                builtInWorker?.address.listening(host: configuration.host, port: port, tls: configuration.http.tls != nil)
                await onServerRunning(port)
            },
            logger: configuration.logger)
        return BerthServer(
            application: application, store: store, engine: engine, issuer: issuer, secrets: secrets, useCases: useCases,
            administratorKey: administratorKey,
            createdMasterKey: createdMasterKey, stop: stop)
    }

    /// Runs the server until SIGTERM or SIGINT, which shut it down gracefully, as does the failure
    /// of one of its services (another live node with this node's name, say): it then throws that
    /// failure, once the shutdown has ended.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger))
        stop.arm { await group.triggerGracefulShutdown() }
        try await group.run()
        if let failure = stop.failure { throw failure }
    }

    /// How this node starts its built-in worker process, when it runs one (`--builtin-worker on`),
    /// and the server's certificate for it when the server serves HTTPS.
    /// - Throws: when the worker could not run as it must (the script user is missing, say).
    static func planBuiltInWorker(
        _ configuration: ServerConfiguration
    ) throws -> (launch: BuiltInWorkerLaunch, certificatePEM: String?)? {
        guard configuration.builtInWorker.mode == .separateProcess else { return nil }
        let engine = configuration.engine
        let launch = try BuiltInWorkerLaunch.plan(
            settings: configuration.builtInWorker, scripts: engine.scriptUser,
            deploymentPollInterval: engine.deploymentPollInterval, serverEnvironment: configuration.environment)
        let certificate = try configuration.http.tls.map { tls in
            do {
                return try String(contentsOfFile: tls.certificatePath, encoding: .utf8)
            } catch {
                throw BerthError(
                    .validationFailed,
                    "The TLS certificate \(tls.certificatePath) cannot be read for the built-in worker: \(error)")
            }
        }
        return (launch, certificate)
    }
}
