import AWSCore
import AWSSigV4
import Foundation

/// A moto server (the AWS emulator) on a free loopback port, started for a test and stopped after.
///
/// moto is found at `$BERTH_MOTO_SERVER`, else in the repository's `.venv`, else on `PATH`; the test
/// command installs it. Signature checking is off until `enableAuthentication()`; from then on
/// moto checks every SigV4 signature against the access keys in its IAM.
public final class MotoServer: Sendable {
    public let port: Int
    public let endpoint: String
    private let process: Process

    /// Starts moto and waits until it answers.
    public static func start() async throws -> MotoServer {
        let executable = try locateExecutable()
        var environment = ProcessInfo.processInfo.environment
        environment["MOTO_CALL_RESET_API"] = "true"
        for key in environment.keys where key.hasPrefix("AWS_") { environment[key] = nil }
        // BERTH_MOTO_LOG=FILE keeps moto's own log, for when a test fails inside moto.
        let log = environment["BERTH_MOTO_LOG"].flatMap { path -> FileHandle? in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }
        let (process, port) = try await launchOnFreeLoopbackPort(
            "moto_server", probePath: "/moto-api/data.json", successOnly: true
        ) { port in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            process.environment = environment
            process.standardOutput = log ?? FileHandle.nullDevice
            process.standardError = log ?? FileHandle.nullDevice
            try process.run()
            return process
        }
        return MotoServer(port: port, process: process)
    }

    private init(port: Int, process: Process) {
        self.port = port
        self.endpoint = "http://127.0.0.1:\(port)"
        self.process = process
    }

    deinit { stop() }

    /// Stops moto at once. moto keeps nothing worth a graceful shutdown, and waiting here would
    /// block a thread of the concurrency pool that other tests' local servers need.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
    }

    /// Environment variables that point every AWS service at this moto.
    public var environment: EnvironmentVariables {
        [
            "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        ]
    }

    /// From now on moto validates every request's signature.
    public func enableAuthentication() async throws {
        _ = try await post("/moto-api/reset-auth", body: "0")
    }

    static let allowEverything = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#

    /// Creates an IAM user allowed to do everything and returns its access keys. Call before
    /// `enableAuthentication()`.
    public func createAdministrator(named name: String = "berth-admin") async throws -> Credentials {
        let iam = try client(for: .iam)
        _ = try await iam.queryCall(action: "CreateUser", parameters: [.init("UserName", name)])
        _ = try await iam.queryCall(
            action: "PutUserPolicy",
            parameters: [
                .init("UserName", name), .init("PolicyName", "everything"),
                .init("PolicyDocument", Self.allowEverything),
            ])
        let key = try await iam.queryCall(action: "CreateAccessKey", parameters: [.init("UserName", name)])
        guard let id = key.string("AccessKey", "AccessKeyId"), let secret = key.string("AccessKey", "SecretAccessKey") else {
            throw LocalToolError("moto's CreateAccessKey answered without keys")
        }
        return Credentials(accessKeyID: id, secretAccessKey: secret)
    }

    /// Creates a role with an allow-everything policy and the given trust policy; returns its ARN.
    public func createRole(named name: String, trustPolicy: String) async throws -> String {
        let iam = try client(for: .iam)
        let role = try await iam.queryCall(
            action: "CreateRole", parameters: [.init("RoleName", name), .init("AssumeRolePolicyDocument", trustPolicy)])
        _ = try await iam.queryCall(
            action: "PutRolePolicy",
            parameters: [
                .init("RoleName", name), .init("PolicyName", "everything"),
                .init("PolicyDocument", Self.allowEverything),
            ])
        guard let arn = role.string("Role", "Arn") else { throw LocalToolError("moto's CreateRole answered without an ARN") }
        return arn
    }

    /// The default VPC's subnets and security group that moto creates in us-east-1, for
    /// `awsvpc` network configurations.
    public func defaultNetwork(credentials: Credentials) async throws -> (subnets: [String], securityGroup: String) {
        let ec2 = try client(for: .motoEC2, credentials: credentials)
        let subnets = try await ec2.queryDocument(action: "DescribeSubnets", parameters: [])
        let groups = try await ec2.queryDocument(
            action: "DescribeSecurityGroups",
            parameters: [.init("Filter.1.Name", "group-name"), .init("Filter.1.Value.1", "default")])
        let subnetIDs = subnets.child("subnetSet")?.children.compactMap { $0.child("subnetId")?.text } ?? []
        guard !subnetIDs.isEmpty, let group = groups.child("securityGroupInfo")?.children.first?.child("groupId")?.text else {
            throw LocalToolError("moto has no default VPC subnets or security group")
        }
        return (subnetIDs, group)
    }

    /// An `AWSClient` for `service` at this moto, signed with `credentials`.
    public func client(
        for service: AWSServiceDescriptor,
        credentials: Credentials = Credentials(accessKeyID: "AKIAMOTOSETUP", secretAccessKey: "setup")
    ) throws -> AWSClient {
        try AWSClient(
            service: service, region: "us-east-1", credentialProvider: StaticCredentialProvider(credentials),
            environment: environment, retryPolicy: .none)
    }

    private func post(_ path: String, body: String) async throws -> AWSHTTPResponse {
        try await AsyncHTTPTransport.shared.send(
            AWSHTTPRequest(method: "POST", url: endpoint + path, body: Array(body.utf8)), timeout: .seconds(10))
    }

    public static func locateExecutable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["BERTH_MOTO_SERVER"], FileManager.default.isExecutableFile(atPath: explicit) {
            return explicit
        }
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(".venv/bin/moto_server").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        for path in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(path)/moto_server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw LocalToolError(
            "moto_server was not found: run `make test` (it installs moto into .venv) or set BERTH_MOTO_SERVER")
    }
}

extension AWSServiceDescriptor {
    /// EC2's Query dialect, enough for the test harness to read moto's default VPC.
    public static let motoEC2 = AWSServiceDescriptor(
        displayName: "Amazon EC2", endpointPrefix: "ec2", signingName: "ec2", endpointVariableSuffix: "EC2",
        wireProtocol: .query(version: "2016-11-15"))
}

/// Runs `body` against a fresh moto. With `authenticated`, an administrator is created first and
/// signature checking switched on; `body` gets the administrator's keys.
public func withMoto<Value: Sendable>(
    authenticated: Bool = true, _ body: (MotoServer, Credentials) async throws -> Value
) async throws -> Value {
    let moto = try await MotoServer.start()
    defer { moto.stop() }
    let administrator = try await moto.createAdministrator()
    if authenticated { try await moto.enableAuthentication() }
    return try await body(moto, administrator)
}

/// Runs `body` against a fresh moto with signature checking on, an administrator, and one role
/// with the given trust policy; `body` gets the administrator's keys and the role's ARN.
public func withMoto<Value: Sendable>(
    role name: String, trustPolicy: String, _ body: (MotoServer, Credentials, String) async throws -> Value
) async throws -> Value {
    let moto = try await MotoServer.start()
    defer { moto.stop() }
    let administrator = try await moto.createAdministrator()
    let roleARN = try await moto.createRole(named: name, trustPolicy: trustPolicy)
    try await moto.enableAuthentication()
    return try await body(moto, administrator, roleARN)
}
