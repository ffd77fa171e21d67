/// The IAM trust policy that lets Berth's tokens assume a role: the federated principal of Berth's
/// OIDC provider, `sts:AssumeRoleWithWebIdentity`, and conditions on the audience and the subjects.
///
/// One exact subject is locked with `StringEquals`; as soon as one subject is a family (`*`), all
/// subjects go under `StringLike` (IAM ANDs condition operators, so they cannot be split).
public struct TrustPolicy: Sendable, Hashable {
    /// The issuer without its scheme: the provider's name in IAM and the prefix of its condition
    /// keys, e.g. `berth.example.com`.
    public var providerHost: String
    public var roleARN: String
    public var audience: String
    public var subjects: [String]

    public init(providerHost: String, roleARN: String, audience: String, subjects: [String]) {
        self.providerHost = providerHost
        self.roleARN = roleARN
        self.audience = audience
        self.subjects = subjects
    }

    /// `arn:<partition>:iam::<account>:oidc-provider/<host>`, from the role's partition and account.
    public var providerARN: String {
        get throws {
            let parts = roleARN.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 6, parts[0] == "arn", parts[2] == "iam", parts[4].count == 12 else {
                throw BerthError(
                    .validationFailed,
                    "The role ARN '\(roleARN)' does not name an IAM role (arn:aws:iam::123456789012:role/NAME).")
            }
            return "arn:\(parts[1]):iam::\(parts[4]):oidc-provider/\(providerHost)"
        }
    }

    /// Whether the subjects need `StringLike`.
    public var usesWildcards: Bool { subjects.contains { $0.contains("*") || $0.contains("?") } }

    /// The policy document.
    public var document: JSONValue {
        get throws {
            let subjectValue: JSONValue =
                subjects.count == 1 ? .string(subjects[0]) : .array(subjects.map(JSONValue.string))
            var conditions: [(String, JSONValue)] = [
                ("StringEquals", .object([("\(providerHost):aud", .string(audience))]))
            ]
            if usesWildcards {
                conditions.append(("StringLike", .object([("\(providerHost):sub", subjectValue)])))
            } else {
                conditions = [
                    (
                        "StringEquals",
                        .object([("\(providerHost):aud", .string(audience)), ("\(providerHost):sub", subjectValue)])
                    )
                ]
            }
            return .object([
                ("Version", .string("2012-10-17")),
                (
                    "Statement",
                    .array([
                        .object([
                            ("Effect", .string("Allow")),
                            ("Principal", .object([("Federated", .string(try providerARN))])),
                            ("Action", .string("sts:AssumeRoleWithWebIdentity")),
                            ("Condition", .object(conditions)),
                        ])
                    ])
                ),
            ])
        }
    }
}

extension TrustPolicy {
    /// Which of an OIDC account's tokens a policy should accept.
    public enum Scope: String, Sendable, CaseIterable {
        case test, health, deployments, all
    }

    /// The subjects an account's tokens carry for `scope`: exact ones where every part is known, a
    /// family with `*` where the part varies (any target for health checks; any project or
    /// environment for deployments unless one is given).
    public static func subjects(
        for scope: Scope, account: Account, spaceSlug: String, projectSlug: String? = nil, environmentSlug: String? = nil
    ) -> [String] {
        let keys = account.subjectKeys
        let test = OIDCSubject.compose(
            .accountTest, values: OIDCSubject.Values(space: spaceSlug, account: account.slug), keys: keys)
        let health = OIDCSubject.compose(
            .healthCheck, values: OIDCSubject.Values(space: spaceSlug, account: account.slug, target: "*"), keys: keys)
        let deployments = OIDCSubject.compose(
            .deployment,
            values: OIDCSubject.Values(
                space: spaceSlug, project: projectSlug ?? "*", environment: environmentSlug ?? "*", account: account.slug),
            keys: keys)
        let all: [String] =
            switch scope {
            case .test: [test]
            case .health: [health]
            case .deployments: [deployments]
            case .all: [test, health, deployments]
            }
        var seen = Set<String>()
        return all.filter { seen.insert($0).inserted }
    }
}
