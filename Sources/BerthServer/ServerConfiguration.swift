import AWSCore
import BerthDomain
import BerthEngine
import BerthStore
import Foundation
import Logging

/// Everything `berth server` is told, read once at the edge and passed down.
public struct ServerConfiguration: Sendable {
    public var dataDirectory: URL
    public var host: String
    public var port: Int
    /// The URL users and AWS reach the server at; default `http://<listen address>`.
    public var publicURL: String?
    /// nil: `sqlite:<data directory>/berth.sqlite`.
    public var database: DatabaseConfiguration?
    /// The process environment, for `BERTH_MASTER_KEY`.
    public var environment: [String: String]
    public var engine: EngineConfiguration
    /// The algorithm of OIDC signing keys Berth creates by itself.
    public var oidcAlgorithm: SigningAlgorithm
    public var oidcPolicy: OIDCKeyPolicy
    public var logger: Logger
    /// TLS and the HTTP limits.
    public var http = HTTPSettings()
    /// Where this node runs the default pool's step jobs (`--builtin-worker`).
    public var builtInWorker = BuiltInWorkerSettings()

    public init(
        dataDirectory: URL, host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil,
        database: DatabaseConfiguration? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        engine: EngineConfiguration = EngineConfiguration(), oidcAlgorithm: SigningAlgorithm = .rs256,
        oidcPolicy: OIDCKeyPolicy = OIDCKeyPolicy(), logger: Logger = Logger(label: "berth.server")
    ) {
        self.dataDirectory = dataDirectory
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.database = database
        self.environment = environment
        self.engine = engine
        self.oidcAlgorithm = oidcAlgorithm
        self.oidcPolicy = oidcPolicy
        self.logger = logger
    }

    /// The public URL, or `http(s)://<listen address>` when none is given: the OIDC issuer.
    /// - Parameter boundPort: the port the server got, when it was asked for port 0.
    public func effectivePublicURL(boundPort: Int? = nil) -> String {
        publicURL ?? "\(http.tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(boundPort ?? port)"
    }

    public var effectiveDatabase: DatabaseConfiguration {
        database ?? .sqlite(path: dataDirectory.appendingPathComponent("berth.sqlite").path)
    }

    /// Parses `HOST:PORT` (`[::1]:8080` for IPv6).
    public static func parseListen(_ value: String) throws -> (host: String, port: Int) {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ListenAddressError(value: value)
        }
        var host = String(value[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ListenAddressError(value: value) }
        return (host, port)
    }

    public struct ListenAddressError: Error, CustomStringConvertible {
        public var value: String
        public var description: String {
            "--listen '\(value)' is not HOST:PORT; for example 127.0.0.1:8080, or 0.0.0.0:8080 to listen on every interface."
        }
    }
}

/// How the server speaks HTTP: TLS, and the limits that keep a client from holding it
/// (`--tls-certificate`, `--tls-key`, `--max-body-size`, `--idle-timeout`, `--request-timeout`).
public struct HTTPSettings: Sendable {
    public static let defaultMaximumBodySize = 4 << 20

    /// The largest request body accepted, in bytes; a larger one is answered 413.
    public var maximumBodySize: Int
    /// How long a connection may stay without receiving a byte before it is closed.
    public var idleTimeout: Duration
    /// How long a request may take to arrive in full, head and body, from its first byte; a
    /// connection whose request is slower is closed (``RequestDeadlineHandler``).
    public var requestTimeout: Duration
    /// The PEM certificate chain and private key to serve HTTPS (HTTP/1.1 and HTTP/2) with; nil
    /// serves plain HTTP.
    public var tls: (certificatePath: String, keyPath: String)?

    public init(
        maximumBodySize: Int = HTTPSettings.defaultMaximumBodySize, idleTimeout: Duration = .seconds(60),
        requestTimeout: Duration = .seconds(60), tls: (certificatePath: String, keyPath: String)? = nil
    ) {
        self.maximumBodySize = maximumBodySize
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.tls = tls
    }
}

extension ServerConfiguration {
    /// The warning to print when this server would carry API keys in clear over a network: it
    /// listens beyond the loopback interface without TLS.
    public var plaintextWarning: String? {
        guard http.tls == nil, !Self.isLoopback(host) else { return nil }
        return """
            WARNING: Berth is listening on \(host):\(port) without TLS: API keys and secrets cross the network in clear. \
            Serve HTTPS with --tls-certificate and --tls-key, or listen on 127.0.0.1 behind a reverse proxy that \
            terminates TLS (and give its address with --public-url).
            """
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Where a node runs the step jobs of the default worker pools (`--builtin-worker`).
public struct BuiltInWorkerSettings: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// A separate, unprivileged worker process that the node starts and watches (`on`): it
        /// takes jobs through the job protocol like an external worker, and holds no secret of
        /// the server's.
        case separateProcess = "on"
        /// Inside the server's process: step code runs next to the master key (scripts still run
        /// as the script user). For machines that do not allow user namespaces, and for tests.
        case inProcess = "in-process"
        /// Not on this node: external workers (or other nodes) take the default pools' jobs.
        case off
    }

    public var mode: Mode
    /// The `berth` executable the worker process runs (default: this process's own).
    public var executable: String
    /// The most jobs the worker process runs at once.
    public var concurrency: Int
    public var logLevel: Logger.Level

    public init(
        mode: Mode = .inProcess, executable: String = "/proc/self/exe", concurrency: Int = 100, logLevel: Logger.Level = .info
    ) {
        self.mode = mode
        self.executable = executable
        self.concurrency = concurrency
        self.logLevel = logLevel
    }
}
