import AWSCore
import AWSSigV4
import Foundation
import Synchronization

/// The EC2 instance metadata service, version 2 only: a session token first (`PUT`), then the
/// role name and its credentials (`GET` with the token). There is no IMDSv1 fallback.
public struct InstanceMetadataCredentialSource: CredentialSource {
    public static let defaultEndpoint = "http://169.254.169.254"
    public static let tokenTTLSeconds = 21_600

    /// The default timeout of each metadata request; `AWS_METADATA_SERVICE_TIMEOUT` overrides it.
    public let timeout: Duration
    public let name = "IMDSv2"
    private let tokenCache = TokenCache()

    public init(timeout: Duration = .seconds(1)) {
        self.timeout = timeout
    }

    public func load(_ context: CredentialContext) async throws -> CredentialSourceResult {
        let environment = context.environment
        if environment.isTrue("AWS_EC2_METADATA_DISABLED") {
            return .skipped(reason: "AWS_EC2_METADATA_DISABLED is true")
        }
        let endpoint = try Self.endpoint(environment)
        let timeout = try Self.timeout(environment) ?? self.timeout
        let token = try await sessionToken(endpoint: endpoint, timeout: timeout, context)

        let listing = try await get(
            "\(endpoint)/latest/meta-data/iam/security-credentials/", token: token, timeout: timeout, context)
        guard listing.status != 404 else {
            throw CredentialSourceError(
                "IMDSv2 at \(endpoint) has no IAM role: this instance has no instance profile with a role attached.")
        }
        guard listing.isSuccess else {
            throw CredentialSourceError(
                "IMDSv2 at \(endpoint) answered HTTP \(listing.status) when asked for the instance's role.")
        }
        let roleName =
            String(decoding: listing.body, as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        guard !roleName.isEmpty else {
            throw CredentialSourceError("IMDSv2 at \(endpoint) lists no role: attach a role to the instance profile.")
        }
        let document = try await get(
            "\(endpoint)/latest/meta-data/iam/security-credentials/\(roleName)", token: token, timeout: timeout, context)
        guard document.isSuccess else {
            throw CredentialSourceError(
                "IMDSv2 at \(endpoint) answered HTTP \(document.status) for the credentials of the role \(roleName).")
        }
        let credentials = try CredentialDocument.parse(document.body, from: "IMDSv2 at \(endpoint)")
        return .found(
            credentials,
            detail:
                "temporary access key \(abbreviated(credentials.accessKeyID)) of the instance role \(roleName) from \(endpoint)")
    }

    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the IPv6 address when
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` is IPv6, else 169.254.169.254.
    static func endpoint(_ environment: EnvironmentVariables) throws -> String {
        if var configured = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] {
            guard let components = URLComponents(string: configured), components.scheme == "http" || components.scheme == "https",
                components.host?.isEmpty == false
            else {
                throw CredentialSourceError(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT is '\(URLRedaction.redacted(configured))', which is not an http(s) URL.")
            }
            guard components.user == nil, components.password == nil, components.query == nil else {
                throw CredentialSourceError(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT must not carry a user, password or query; it is '\(URLRedaction.redacted(configured))'."
                )
            }
            while configured.hasSuffix("/") { configured.removeLast() }
            return configured
        }
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6" {
            return "http://[fd00:ec2::254]"
        }
        return defaultEndpoint
    }

    /// `AWS_METADATA_SERVICE_TIMEOUT`, in seconds, as the AWS CLI reads it.
    static func timeout(_ environment: EnvironmentVariables) throws -> Duration? {
        guard let text = environment["AWS_METADATA_SERVICE_TIMEOUT"] else { return nil }
        guard let seconds = Double(text), seconds > 0, seconds <= 60 else {
            throw CredentialSourceError(
                "AWS_METADATA_SERVICE_TIMEOUT is '\(text)'; it must be a number of seconds between 0 and 60.")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    func sessionToken(endpoint: String, timeout: Duration, _ context: CredentialContext) async throws -> String {
        let now = context.clock.now()
        if let cached = tokenCache.value(endpoint: endpoint, at: now) { return cached }
        let request = AWSHTTPRequest(
            method: "PUT", url: "\(endpoint)/latest/api/token",
            headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))])
        let response: AWSHTTPResponse
        do {
            response = try await context.transport.send(request, timeout: timeout)
        } catch let error as AWSClientError where error.code == .timedOut {
            throw CredentialSourceError(Self.hopLimitMessage(endpoint: endpoint, timeout: timeout))
        } catch let error as AWSClientError {
            throw CredentialSourceError(
                "IMDSv2 token request to \(endpoint) failed: \(error.message) This machine is probably not an EC2 instance.")
        }
        switch response.status {
        case 200:
            let token = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw CredentialSourceError("IMDSv2 at \(endpoint) answered the token request with an empty token.")
            }
            // Refresh a little before the service forgets the token.
            tokenCache.store(token, endpoint: endpoint, until: now.addingTimeInterval(TimeInterval(Self.tokenTTLSeconds - 60)))
            return token
        case 403:
            throw CredentialSourceError(
                "IMDSv2 at \(endpoint) refused the token request (HTTP 403): the metadata service is disabled on this instance, or the request passed a proxy. Berth does not fall back to IMDSv1."
            )
        default:
            throw CredentialSourceError(
                "IMDSv2 at \(endpoint) answered the token request with HTTP \(response.status). Berth does not fall back to IMDSv1."
            )
        }
    }

    func get(_ url: String, token: String, timeout: Duration, _ context: CredentialContext) async throws -> AWSHTTPResponse {
        do {
            let response = try await context.transport.send(
                AWSHTTPRequest(method: "GET", url: url, headers: [("X-aws-ec2-metadata-token", token)]), timeout: timeout)
            if response.status == 401 { tokenCache.clear() }
            return response
        } catch let error as AWSClientError {
            throw CredentialSourceError("IMDSv2 request \(url) failed: \(error.message)")
        }
    }

    static func hopLimitMessage(endpoint: String, timeout: Duration) -> String {
        "IMDSv2 token request to \(endpoint) got no answer in \(AsyncHTTPTransport.describe(timeout)). "
            + "Inside a container on EC2 the token needs 2 network hops and the instance's hop limit is 1 by default; raise it: "
            + "aws ec2 modify-instance-metadata-options --instance-id <instance-id> --http-put-response-hop-limit 2 --http-endpoint enabled. "
            + "Outside EC2, set AWS_EC2_METADATA_DISABLED=true to skip the metadata service."
    }

    /// The IMDSv2 session token, kept until shortly before its TTL ends.
    final class TokenCache: Sendable {
        private let state = Mutex<(endpoint: String, token: String, until: Date)?>(nil)

        func value(endpoint: String, at date: Date) -> String? {
            state.withLock { state in
                guard let state, state.endpoint == endpoint, state.until > date else { return nil }
                return state.token
            }
        }

        func store(_ token: String, endpoint: String, until: Date) {
            state.withLock { $0 = (endpoint, token, until) }
        }

        func clear() {
            state.withLock { $0 = nil }
        }
    }
}
