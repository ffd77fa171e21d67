import AWSSigV4
import Foundation

/// Where a service's requests go, and which region they are signed for.
public struct AWSEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?
    /// A path prefix from a configured endpoint URL (usually empty).
    public let basePath: String
    public let region: Region
    /// How the endpoint was chosen, for traces: "default", "AWS_ENDPOINT_URL_ECS", …
    public let source: String

    public var description: String {
        "\(scheme)://\(SigningRequest.hostHeader(host: host, port: port, scheme: scheme))\(basePath)"
    }

    /// The endpoint of `service` in `region`, honouring `AWS_ENDPOINT_URL_<SERVICE>` and then
    /// `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true).
    ///
    /// Global services (IAM) use their partition's global host, signed for the partition's home
    /// region (`us-east-1`, `cn-north-1`, `us-gov-west-1`) whatever region asked; every other
    /// service its regional one.
    public static func resolve(
        service: AWSServiceDescriptor, region regionName: String, environment: EnvironmentVariables
    ) throws(AWSClientError) -> AWSEndpoint {
        if !environment.isTrue("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            for variable in ["AWS_ENDPOINT_URL_\(service.endpointVariableSuffix)", "AWS_ENDPOINT_URL"] {
                guard let value = environment[variable] else { continue }
                let region = try Region(regionName, allowUnlisted: true)
                return try configured(url: value, variable: variable, region: region)
            }
        }
        var region = try Region(regionName)
        let host: String
        if service.endpointPrefix == "iam" {
            switch region.partition.id {
            case "aws": (host, region) = ("iam.amazonaws.com", try Region("us-east-1"))
            case "aws-cn": (host, region) = ("iam.cn-north-1.amazonaws.com.cn", try Region("cn-north-1"))
            case "aws-us-gov": (host, region) = ("iam.us-gov.amazonaws.com", try Region("us-gov-west-1"))
            default: host = "iam.\(region.name).\(region.partition.dnsSuffix)"
            }
        } else {
            host = "\(service.endpointPrefix).\(region.name).\(region.partition.dnsSuffix)"
        }
        return AWSEndpoint(scheme: "https", host: host, port: nil, basePath: "", region: region, source: "default")
    }

    static func configured(url value: String, variable: String, region: Region) throws(AWSClientError) -> AWSEndpoint {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw AWSClientError(
                .invalidEndpoint,
                "\(variable) is '\(URLRedaction.redacted(value))', which is not an http:// or https:// URL with a host.")
        }
        guard components.query == nil, components.fragment == nil, components.user == nil else {
            throw AWSClientError(
                .invalidEndpoint,
                "\(variable) must not have a query, fragment or user part; it is '\(URLRedaction.redacted(value))'.")
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        return AWSEndpoint(
            scheme: scheme, host: host, port: components.port, basePath: path, region: region, source: variable)
    }

    public init(scheme: String, host: String, port: Int?, basePath: String, region: Region, source: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.region = region
        self.source = source
    }
}
