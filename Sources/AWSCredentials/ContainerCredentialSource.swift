import AWSCore
import AWSSigV4
import Foundation

/// The container credentials endpoint: ECS task roles (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`)
/// and EKS Pod Identity or other local agents (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
public struct ContainerCredentialSource: CredentialSource {
    /// Where a relative URI points; the ECS agent's address unless a test says otherwise.
    public let relativeBase: String
    /// How long one request may take, and how many are made while the endpoint does not answer.
    public let timeout: Duration
    public let attempts: Int
    public let name = "container credentials"

    public init(relativeBase: String = "http://169.254.170.2", timeout: Duration = .seconds(2), attempts: Int = 3) {
        self.relativeBase = relativeBase
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    /// Hosts a plain-HTTP full URI may name: the credential agents' link-local addresses and loopback.
    static let allowedHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]", "localhost"]

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        let environment = context.environment
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = relativeBase + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            try Self.checkFullURI(full)
            url = full
        } else {
            return .skipped(reason: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }

        let shown = URLRedaction.redacted(url)
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token = try Self.authorizationToken(environment) {
            headers.append(("Authorization", token))
        }
        let response = try await send(AWSHTTPRequest(method: "GET", url: url, headers: headers), shown: shown, context)
        let body = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard response.isSuccess else {
            let code = body?["code"] as? String ?? body?["Code"] as? String
            let message = body?["message"] as? String ?? body?["Message"] as? String ?? ""
            throw CredentialSourceError(
                "The container credentials endpoint \(shown) answered HTTP \(response.status)"
                    + (code.map { " \($0)" } ?? "") + (message.isEmpty ? "." : ": \(message)"),
                awsErrorCode: code.map(AWSErrorCode.init(rawValue:)))
        }
        let credentials = try CredentialDocument.parse(response.body, from: "the container credentials endpoint \(shown)")
        let role = (body?["RoleArn"] as? String).map { " for \($0)" } ?? ""
        return .found(credentials, detail: "temporary access key \(abbreviated(credentials.accessKeyID))\(role) from \(shown)")
    }

    /// Asks the endpoint up to `attempts` times while it does not answer at all, as botocore's
    /// container metadata fetcher does: a local agent under load can miss one timeout. Each request
    /// waits `timeout`, or `AWS_METADATA_SERVICE_TIMEOUT` when set (Berth applies the metadata
    /// service setting to both local credential endpoints).
    func send(_ request: AWSHTTPRequest, shown: String, _ context: CredentialContext) async throws -> AWSHTTPResponse {
        let timeout = try InstanceMetadataCredentialSource.timeout(context.environment) ?? self.timeout
        var lastError: AWSClientError?
        for _ in 0..<attempts {
            do {
                return try await context.transport.send(request, timeout: timeout)
            } catch let error as AWSClientError {
                lastError = error
            }
        }
        throw CredentialSourceError(
            "The container credentials endpoint \(shown) did not answer (\(attempts) attempts): \(lastError?.message ?? "")")
    }

    /// A full URI must be HTTPS, or plain HTTP to loopback or a credential agent's address.
    static func checkFullURI(_ value: String) throws {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else {
            throw CredentialSourceError(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI is '\(URLRedaction.redacted(value))', which is not a URL.")
        }
        if scheme == "https" { return }
        guard scheme == "http" else {
            throw CredentialSourceError(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be http or https; it is '\(URLRedaction.redacted(value))'.")
        }
        guard allowedHosts.contains(host) || isLoopback(host) else {
            throw CredentialSourceError(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI names the host '\(host)' over plain HTTP. Only loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23 may be used without HTTPS."
            )
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read each time) before `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    static func authorizationToken(_ environment: EnvironmentVariables) throws -> String? {
        var token: String?
        var origin = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            origin = "the token file \(file)"
            do {
                token = String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self)
                    .trimmingCharacters(in: .whitespaces)
                if token?.hasSuffix("\n") == true { token?.removeLast() }
            } catch {
                throw CredentialSourceError(
                    "Cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file): \((error as NSError).localizedDescription).")
            }
        } else {
            token = environment.values["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        }
        guard let token, !token.isEmpty else { return nil }
        guard !token.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            throw CredentialSourceError(
                "The container authorization token from \(origin) contains a line break, which HTTP headers cannot carry.")
        }
        return token
    }
}
