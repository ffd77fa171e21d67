import AWSCore
import AWSSigV4
import Foundation

/// A read-only client for AWS IAM (AWS Query): what a release's preflight asks of roles.
public struct IAMClient: AWSServiceClient {
    public static let service = AWSServiceDescriptor.iam
    public let client: AWSClient

    public init(client: AWSClient) {
        precondition(client.service == Self.service, "IAMClient needs an AWSClient for AWS IAM")
        self.client = client
    }

    /// A role as `GetRole` describes it.
    public struct Role: Sendable, Hashable {
        public var name: String
        public var arn: String
        /// The trust policy, decoded (IAM sends it URL-encoded).
        public var assumeRolePolicyDocument: String?

        public init(name: String, arn: String, assumeRolePolicyDocument: String?) {
            self.name = name
            self.arn = arn
            self.assumeRolePolicyDocument = assumeRolePolicyDocument
        }

        /// The services the trust policy lets assume the role (`ecs-tasks.amazonaws.com`, …).
        /// - Throws: when IAM sent no policy, or one that is not a JSON object.
        public func trustedServices() throws(AWSClientError) -> Set<String> {
            guard let document = assumeRolePolicyDocument, let data = document.data(using: .utf8) else {
                throw AWSClientError(.invalidResponse, "IAM GetRole answered without the role's trust policy.")
            }
            let parsed: Any
            do {
                parsed = try JSONSerialization.jsonObject(with: data)
            } catch {
                throw AWSClientError(.invalidResponse, "The role's trust policy is not JSON: \(error.localizedDescription)")
            }
            guard let policy = parsed as? [String: Any] else {
                throw AWSClientError(.invalidResponse, "The role's trust policy is not a JSON object.")
            }
            let statements: [[String: Any]] =
                (policy["Statement"] as? [[String: Any]]) ?? ((policy["Statement"] as? [String: Any]).map { [$0] } ?? [])
            var services: Set<String> = []
            for statement in statements where (statement["Effect"] as? String) == "Allow" {
                let principal = statement["Principal"] as? [String: Any]
                switch principal?["Service"] {
                case let one as String: services.insert(one)
                case let many as [String]: services.formUnion(many)
                default: break
                }
            }
            return services
        }
    }

    /// `GetRole` of a role name (the last part of a role ARN, without its path).
    public func getRole(named name: String) async throws -> Role {
        let result = try await client.queryCall(action: "GetRole", parameters: [.init("RoleName", name)])
        guard let role = result.child("Role"), let arn = role.string("Arn") else {
            throw AWSClientError(.invalidResponse, "IAM GetRole answered without a role.")
        }
        return Role(
            name: role.string("RoleName") ?? name, arn: arn,
            assumeRolePolicyDocument: role.string("AssumeRolePolicyDocument").map { $0.removingPercentEncoding ?? $0 })
    }

    /// The role name of a role ARN (`arn:aws:iam::123456789012:role/path/name` → `name`).
    public static func roleName(of arn: String) -> String? {
        guard arn.hasPrefix("arn:"), let resource = arn.split(separator: ":", maxSplits: 5).last, resource.hasPrefix("role/")
        else { return nil }
        return resource.split(separator: "/").last.map(String.init)
    }
}
