/// The `sub` claim of a token Berth issues: which space, project, environment, target or account
/// is asking, in the formats Octopus users know (REFERENCE.md §1), so that a trust policy can lock a
/// role to exactly that use.
///
/// ```swift
/// let subject = OIDCSubject.compose(
///     .healthCheck, values: .init(space: "default", account: "prod-oidc", target: "web-cluster"), keys: [])
/// // "space:default:target:web-cluster"
/// ```
public enum OIDCSubject {
    /// What the token is for. The raw value is the `type` part of the subject.
    public enum Purpose: String, Sendable, Hashable, CaseIterable {
        case accountTest = "test"
        case healthCheck = "health"
        case deployment = "deployment"
    }

    /// The slugs a subject may be built from; `nil` when the part has no value for this purpose
    /// (a health check has no project). `*` stands for "any" in trust-policy families.
    public struct Values: Sendable, Hashable {
        public var space: String?
        public var project: String?
        public var tenant: String?
        public var environment: String?
        public var account: String?
        public var target: String?
        /// Who queued the deployment: not part of the subject, but the `berth:deployed_by` claim
        /// of its tokens.
        public var deployedBy: String?

        public init(
            space: String? = nil, project: String? = nil, tenant: String? = nil, environment: String? = nil,
            account: String? = nil, target: String? = nil
        ) {
            self.space = space
            self.project = project
            self.tenant = tenant
            self.environment = environment
            self.account = account
            self.target = target
        }

        func value(of part: String, purpose: Purpose) -> String? {
            switch part {
            case "space": space
            case "project": project
            case "tenant": tenant
            case "environment": environment
            case "account": account
            case "target": target
            case "type": purpose.rawValue
            default: nil
            }
        }
    }

    /// The parts in the fixed order they appear in a subject; the choices of `Account.subjectKeys`.
    public static let partOrder = ["space", "project", "tenant", "environment", "account", "target", "type"]

    /// The parts used when an account chooses none.
    public static func defaultParts(for purpose: Purpose) -> [String] {
        switch purpose {
        case .deployment: ["space", "project", "tenant", "environment"]
        case .healthCheck: ["space", "target"]
        case .accountTest: ["space", "account"]
        }
    }

    /// Builds the subject from the chosen parts (the defaults when `keys` is empty), in the fixed
    /// order, dropping every part without a value.
    public static func compose(_ purpose: Purpose, values: Values, keys: [String]) -> String {
        let chosen = Set(keys.isEmpty ? defaultParts(for: purpose) : keys)
        return partOrder.filter(chosen.contains)
            .compactMap { part in values.value(of: part, purpose: purpose).map { "\(part):\($0)" } }
            .joined(separator: ":")
    }

    /// Whether a subject pattern with IAM's `StringLike` wildcards (`*` any run, `?` one character)
    /// matches `subject`. Used to explain refusals, not to grant anything.
    public static func pattern(_ pattern: String, matches subject: String) -> Bool {
        let p = Array(pattern)
        let s = Array(subject)
        var pi = 0
        var si = 0
        var starAt: Int?
        var matchedUpTo = 0
        while si < s.count {
            if pi < p.count, p[pi] == "?" || p[pi] == s[si] {
                pi += 1
                si += 1
            } else if pi < p.count, p[pi] == "*" {
                starAt = pi
                matchedUpTo = si
                pi += 1
            } else if let star = starAt {
                pi = star + 1
                matchedUpTo += 1
                si = matchedUpTo
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
