import BerthDomain
import Foundation
import Testing

@Suite("OIDC subjects and trust policies")
struct OIDCSubjectTests {
    static let values = OIDCSubject.Values(
        space: "default", project: "web-app", environment: "production", account: "prod-oidc", target: "web-cluster")

    @Test(
        "Default subjects are REFERENCE.md's formats",
        arguments: [
            (OIDCSubject.Purpose.deployment, "space:default:project:web-app:environment:production"),
            (.healthCheck, "space:default:target:web-cluster"),
            (.accountTest, "space:default:account:prod-oidc"),
        ])
    func defaults(purpose: OIDCSubject.Purpose, expected: String) {
        var values = Self.values
        if purpose != .deployment { values.project = nil; values.environment = nil }
        if purpose == .accountTest { values.target = nil }
        #expect(OIDCSubject.compose(purpose, values: values, keys: []) == expected)
    }

    @Test func chosenPartsKeepTheFixedOrderAndPartsWithoutAValueAreDropped() {
        let keys = ["type", "environment", "space", "tenant", "account"]
        #expect(
            OIDCSubject.compose(.deployment, values: Self.values, keys: keys)
                == "space:default:environment:production:account:prod-oidc:type:deployment")
        let health = OIDCSubject.Values(space: "default", account: "prod-oidc", target: "web-cluster")
        #expect(
            OIDCSubject.compose(.healthCheck, values: health, keys: keys) == "space:default:account:prod-oidc:type:health")
    }

    @Test(
        "StringLike patterns match as IAM does",
        arguments: [
            ("space:default:target:*", "space:default:target:web", true),
            ("space:default:target:*", "space:default:account:web", false),
            ("space:default:project:*:environment:*", "space:default:project:a:environment:b", true),
            ("space:?efault:*", "space:default:x", true),
            ("space:default", "space:default:x", false),
            ("*", "", true),
        ])
    func patterns(pattern: String, subject: String, matches: Bool) {
        #expect(OIDCSubject.pattern(pattern, matches: subject) == matches)
    }

    static func account(keys: [String] = []) -> Account {
        Account(
            spaceID: "spc", kind: .awsOIDC, name: "Prod OIDC", roleARN: "arn:aws-us-gov:iam::123456789012:role/deployer",
            subjectKeys: keys, createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test func oneExactSubjectIsLockedWithStringEquals() throws {
        let subjects = TrustPolicy.subjects(for: .test, account: Self.account(), spaceSlug: "default")
        #expect(subjects == ["space:default:account:prod-oidc"])
        let policy = TrustPolicy(
            providerHost: "berth.example.com", roleARN: Self.account().roleARN!, audience: "berth.example.com",
            subjects: subjects)
        let text = try policy.document.rendered(pretty: true)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let statement = try #require((json["Statement"] as? [[String: Any]])?.first)
        #expect(json["Version"] as? String == "2012-10-17")
        #expect(statement["Effect"] as? String == "Allow")
        #expect(statement["Action"] as? String == "sts:AssumeRoleWithWebIdentity")
        #expect(
            (statement["Principal"] as? [String: String])?["Federated"]
                == "arn:aws-us-gov:iam::123456789012:oidc-provider/berth.example.com")
        let condition = try #require(statement["Condition"] as? [String: [String: Any]])
        #expect(condition.keys.sorted() == ["StringEquals"])
        #expect(condition["StringEquals"]?["berth.example.com:sub"] as? String == "space:default:account:prod-oidc")
        #expect(condition["StringEquals"]?["berth.example.com:aud"] as? String == "berth.example.com")
    }

    @Test func familiesUseStringLikeForEverySubjectAndNarrowByProjectAndEnvironment() throws {
        let all = TrustPolicy.subjects(for: .all, account: Self.account(), spaceSlug: "default")
        #expect(
            all == ["space:default:account:prod-oidc", "space:default:target:*", "space:default:project:*:environment:*"])
        let narrowed = TrustPolicy.subjects(
            for: .deployments, account: Self.account(), spaceSlug: "default", projectSlug: "web-app",
            environmentSlug: "production")
        #expect(narrowed == ["space:default:project:web-app:environment:production"])
        let policy = TrustPolicy(
            providerHost: "berth.example.com/tenant", roleARN: "arn:aws:iam::123456789012:role/r", audience: "aud",
            subjects: all)
        #expect(policy.usesWildcards)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(try policy.document.rendered().utf8)) as? [String: Any])
        let condition = try #require(
            ((json["Statement"] as? [[String: Any]])?.first?["Condition"]) as? [String: [String: Any]])
        #expect(condition["StringLike"]?["berth.example.com/tenant:sub"] as? [String] == all)
        #expect(condition["StringEquals"]?["berth.example.com/tenant:aud"] as? String == "aud")
    }

    @Test func aRoleARNThatIsNotAnIAMRoleIsRefusedByName() {
        let policy = TrustPolicy(providerHost: "h", roleARN: "arn:aws:s3:::bucket", audience: "a", subjects: ["s"])
        #expect(throws: BerthError.self) { try policy.providerARN }
    }

    @Test func customClaimsWrittenAsJSONAreEmbeddedAndBrokenJSONIsNamed() throws {
        var account = Self.account()
        account.customClaims = ["https://aws.amazon.com/tags": #"{"principal_tags":{"team":["web"]}}"#, "team": "web"]
        let claims = try account.customClaimValues()
        #expect(claims.map(\.0) == ["https://aws.amazon.com/tags", "team"])
        #expect(claims[0].1 == .object([("principal_tags", .object([("team", .array([.string("web")]))]))]))
        #expect(claims[1].1 == .string("web"))
        let draft = AccountDraft(
            kind: .awsOIDC, name: "x", roleARN: "arn:aws:iam::123456789012:role/r", customClaims: ["tags": "{broken"])
        let error = #expect(throws: BerthError.self) { try draft.validate(secretIsStored: false) }
        #expect(error?.details.first?.field == "customClaims")
        #expect(error?.details.first?.message.contains("tags") == true)
    }

    @Test func refusalsNameTheClaimAndShowThePolicyThatAcceptsTheToken() throws {
        let policy = TrustPolicy(
            providerHost: "berth.example.com", roleARN: "arn:aws:iam::123456789012:role/r", audience: "berth.example.com",
            subjects: ["space:default:account:prod"])
        let denied = OIDCRefusal.explain(
            code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity", policy: policy,
            subject: "space:default:account:prod")
        #expect(denied.contains("berth.example.com:sub"))
        #expect(denied.contains(#""berth.example.com:sub": "space:default:account:prod""#))
        let audience = OIDCRefusal.explain(
            code: "InvalidIdentityToken", message: "Incorrect token audience", policy: policy, subject: "s")
        #expect(audience.contains("aud claim"))
        #expect(audience.contains("add-client-id-to-open-id-connect-provider"))
        let provider = OIDCRefusal.explain(
            code: "InvalidIdentityToken", message: "No OpenIDConnect provider found in your account for https://x",
            policy: policy, subject: "s")
        #expect(provider.contains("berth oidc provider"))
    }
}
