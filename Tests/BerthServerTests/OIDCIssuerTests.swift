import AWSCore
import BerthDev
import BerthDomain
import BerthOIDC
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The identity provider as a relying party sees it: tokens checked by joserfc (Python) against the
/// discovery document and JWKS this server serves over HTTP; keys rotated, retired and revoked on
/// an injected clock.
@Suite struct OIDCIssuerTests {
    static let day: TimeInterval = 86_400

    /// The issuer URL of a test server (its loopback address).
    func issuerURL(_ server: TestServer) -> String { server.server.issuer.configuration.issuer }

    func jwksKids(_ server: TestServer) async throws -> [String] {
        let reply = try await server.request(.get, "/.well-known/jwks", key: .some(nil))
        return (reply.json["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
    }

    @Test func discoveryAndJWKSAreAnonymousCacheableAndDescribeTheIssuer() async throws {
        try await TestServer.with { server in
            let issuer = issuerURL(server)
            #expect(issuer.hasPrefix("http://localhost:") && !issuer.hasSuffix(":0"))
            let (discovery, discoveryCache) = try await server.client.execute(
                uri: "/.well-known/openid-configuration", method: .get
            ) { ($0.body, $0.headers[.cacheControl]) }
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(String(buffer: discovery).utf8)) as? [String: Any])
            #expect(document["issuer"] as? String == issuer)
            #expect(document["jwks_uri"] as? String == issuer + "/.well-known/jwks")
            #expect(document["id_token_signing_alg_values_supported"] as? [String] == ["RS256", "ES256"])
            #expect(document["subject_types_supported"] as? [String] == ["public"])
            #expect(document["response_types_supported"] as? [String] == ["id_token"])
            #expect(discoveryCache == "public, max-age=3600")

            let jwksCache = try await server.client.execute(uri: "/.well-known/jwks", method: .get) {
                $0.headers[.cacheControl]
            }
            #expect(jwksCache == "public, max-age=300")
            let reply = try await server.request(.get, "/.well-known/jwks", key: .some(nil))
            let keys = try #require(reply.json["keys"] as? [[String: Any]])
            #expect(keys.count == 1)
            #expect(keys[0]["kty"] as? String == "RSA")
            #expect(keys[0]["alg"] as? String == "RS256")
            #expect(keys[0]["use"] as? String == "sig")
            #expect(keys[0]["d"] == nil, "the private exponent must never be published")
            #expect(!reply.text.contains("PRIVATE"))
        }
    }

    @Test func tokensVerifyWithAnIndependentImplementationAgainstTheServedJWKS() async throws {
        try await TestServer.with { server in
            let tags = #"{"principal_tags":{"team":["web"]},"transitive_tag_keys":["team"]}"#
            let token = try await server.server.issuer.mint(
                subject: "space:default:account:prod-oidc", audience: "berth.example.com",
                customClaims: [("https://aws.amazon.com/tags", try JSONValue.parse(tags)), ("team", .string("web"))])
            let verified = try await PythonTools.verifyToken(
                token.token, issuer: issuerURL(server), audience: "berth.example.com",
                subject: "space:default:account:prod-oidc")
            #expect(verified.isValid, "\(verified.failure)")
            #expect(verified.header["alg"] == "RS256")
            #expect(verified.header["kid"] == token.kid)
            #expect(verified.header["typ"] == "JWT")
            let iat = try #require(verified.claims["iat"] as? Double)
            #expect(verified.claims["exp"] as? Double == iat + 300)
            #expect(verified.claims["nbf"] as? Double == iat)
            #expect((verified.claims["jti"] as? String)?.count == 36)
            #expect(verified.claims["team"] as? String == "web")
            let sessionTags = try #require(verified.claims["https://aws.amazon.com/tags"] as? [String: any Sendable])
            #expect((sessionTags["principal_tags"] as? [String: any Sendable])?["team"] as? [String] == ["web"])

            let wrongAudience = try await PythonTools.verifyToken(
                token.token, issuer: issuerURL(server), audience: "other.example.com",
                subject: "space:default:account:prod-oidc")
            #expect(!wrongAudience.isValid)
            #expect(wrongAudience.failure.contains("aud"))
            let tampered = try await PythonTools.verifyToken(
                String(token.token.dropLast(4)) + "AAAA", issuer: issuerURL(server), audience: "berth.example.com",
                subject: "space:default:account:prod-oidc")
            #expect(!tampered.isValid)
        }
    }

    @Test func keysRotateWithOverlapRetireAfterTheirLastTokenAndRevokeAtOnce() async throws {
        let clock = ManualClock()
        try await TestServer.with(clock: clock) { server in
            let issuer = server.server.issuer
            let url = issuerURL(server)
            func mint() async throws -> OIDCToken {
                try await issuer.mint(subject: "space:default:target:web", audience: "berth.example.com")
            }
            func verify(_ token: OIDCToken) async throws -> PythonTools.TokenVerification {
                try await PythonTools.verifyToken(
                    token.token, issuer: url, audience: "berth.example.com", subject: "space:default:target:web",
                    now: clock.now())
            }
            let first = try await issuer.keyStatuses()
            #expect(first.count == 1)
            let k1 = first[0].key
            #expect(first[0].state == .active)
            #expect(k1.expiresAt.timeIntervalSince(k1.activatesAt) == 90 * Self.day)

            // Nothing to do until a week before expiry.
            clock.advance(by: 82 * Self.day)
            #expect(try await issuer.maintain().isEmpty)
            clock.advance(by: 1 * Self.day + 1)
            let actions = try await issuer.maintain()
            #expect(actions.count == 1)
            let statuses = try await issuer.keyStatuses()
            let k2 = try #require(statuses.first { $0.key.id != k1.id }?.key)
            #expect(statuses.first { $0.key.id == k2.id }?.state == .pending)
            #expect(k2.activatesAt.timeIntervalSince(clock.now()) == Self.day, "published a day before it signs")
            #expect(Set(try await jwksKids(server)) == [k1.kid, k2.kid])
            let beforeSwitch = try await mint()
            #expect(beforeSwitch.kid == k1.kid, "a pending key signs nothing")
            #expect(try await verify(beforeSwitch).isValid)

            // The new key takes over; the old one stays published while its tokens live.
            clock.advance(by: Self.day)
            let afterSwitch = try await mint()
            #expect(afterSwitch.kid == k2.kid)
            #expect(try await verify(afterSwitch).isValid)
            #expect(try await issuer.keyStatuses().first { $0.key.id == k1.id }?.state == .retired)
            #expect(Set(try await jwksKids(server)) == [k1.kid, k2.kid])

            // 5 minutes of token lifetime and 1 of clock skew later it is gone, with its private half.
            clock.advance(by: 360 + 1)
            try await issuer.maintain()
            #expect(try await jwksKids(server) == [k2.kid])
            #expect(try await issuer.keyStatuses().first { $0.key.id == k1.id }?.state == .expired)
            #expect(try await server.server.store.signingKeys().first { $0.id == k1.id }?.privateKey == nil)

            // Revocation: gone from the JWKS at once, its tokens refused, another key signs at once.
            let signedByK2 = try await mint()
            let (revoked, revokeActions) = try await issuer.revoke(k2.kid)
            #expect(revoked.revokedAt == clock.now())
            #expect(revokeActions.contains { $0.contains("Created the signing key") })
            #expect(!(try await jwksKids(server)).contains(k2.kid))
            let refused = try await verify(signedByK2)
            #expect(!refused.isValid)
            let replacement = try await mint()
            #expect(replacement.kid != k2.kid && replacement.kid != k1.kid)
            #expect(try await verify(replacement).isValid)
            #expect(try await server.server.store.signingKeys().first { $0.id == k2.id }?.privateKey == nil)
        }
    }

    @Test func manualRotationToES256PublishesFirstAndCanSignAtOnce() async throws {
        let clock = ManualClock()
        try await TestServer.with(clock: clock) { server in
            let issuer = server.server.issuer
            let reply = try await server.request(.post, "/api/oidc/keys/rotate", json: ["algorithm": "ES256"])
            #expect(reply.status == .created)
            #expect(reply.json["state"] as? String == "pending")
            #expect(reply.json["algorithm"] as? String == "ES256")
            let pendingKid = try #require(reply.json["kid"] as? String)
            #expect(try await issuer.mint(subject: "s", audience: "a").kid != pendingKid)
            clock.advance(by: 601)
            let token = try await issuer.mint(subject: "space:default:account:a", audience: "aud")
            #expect(token.kid == pendingKid)
            let verified = try await PythonTools.verifyToken(
                token.token, issuer: issuerURL(server), audience: "aud", subject: "space:default:account:a",
                now: clock.now())
            #expect(verified.isValid, "\(verified.failure)")
            #expect(verified.header["alg"] == "ES256")

            let now = try await server.request(.post, "/api/oidc/keys/rotate", json: ["activateAfterSeconds": 0])
            #expect(now.json["state"] as? String == "active")
            #expect(now.json["algorithm"] as? String == "RS256")
            let invalid = try await server.request(.post, "/api/oidc/keys/rotate", json: ["activateAfterSeconds": -5])
            #expect(invalid.status == .badRequest)
            #expect(invalid.text.contains("activateAfterSeconds"))
            let list = try await server.request(.get, "/api/oidc/keys")
            #expect(list.items.map { $0["state"] as? String } == ["active", "retired", "retired"])
            #expect(!list.text.contains("private"))
            let missing = try await server.request(.post, "/api/oidc/keys/no-such-key/revoke")
            #expect(missing.status == .notFound)
        }
    }

    @Test func trustPoliciesAndTheProviderAreServedWithClearErrorsForWrongInput() async throws {
        try await TestServer.with { server in
            let host = String(issuerURL(server).dropFirst("http://".count))
            #expect(
                try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"]).status
                    == .created)
            let oidc = try await server.request(
                .post, "/api/spaces/default/accounts",
                json: [
                    "type": "aws-oidc", "name": "Prod OIDC", "roleArn": "arn:aws:iam::123456789012:role/deployer",
                    "audience": "sts.amazonaws.com", "subjectKeys": ["space", "environment", "project", "type"],
                ])
            #expect(oidc.status == .created, "\(oidc.text)")
            let keys = try await server.request(
                .post, "/api/spaces/default/accounts",
                json: ["type": "aws-access-key", "name": "keys", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "secretKey": "abcd1234"])
            #expect(keys.status == .created)

            let policy = try await server.request(
                .get, "/api/spaces/default/accounts/prod-oidc/trust-policy?for=deployments&environment=production")
            #expect(policy.status == .ok, "\(policy.text)")
            #expect(policy.json["subjects"] as? [String] == ["space:default:project:*:environment:production:type:deployment"])
            #expect(policy.json["operator"] as? String == "StringLike")
            #expect(policy.json["audience"] as? String == "sts.amazonaws.com")
            #expect(policy.json["providerArn"] as? String == "arn:aws:iam::123456789012:oidc-provider/\(host)")
            let text = try #require(policy.json["policy"] as? String)
            #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])

            let exact = try await server.request(.get, "/api/spaces/default/accounts/prod-oidc/trust-policy?for=test")
            #expect(exact.json["subjects"] as? [String] == ["space:default:type:test"])
            #expect(exact.json["operator"] as? String == "StringEquals")

            let notOIDC = try await server.request(.get, "/api/spaces/default/accounts/keys/trust-policy")
            #expect(notOIDC.status == .badRequest)
            #expect(notOIDC.errorMessage.contains("access key account"))
            let badScope = try await server.request(.get, "/api/spaces/default/accounts/prod-oidc/trust-policy?for=everything")
            #expect(badScope.status == .badRequest)
            let narrowedTest = try await server.request(
                .get, "/api/spaces/default/accounts/prod-oidc/trust-policy?for=test&project=web")
            #expect(narrowedTest.status == .badRequest)
            #expect(narrowedTest.errorFields == ["for"])
            let unknownEnvironment = try await server.request(
                .get, "/api/spaces/default/accounts/prod-oidc/trust-policy?environment=staging")
            #expect(unknownEnvironment.status == .badRequest)
            #expect(unknownEnvironment.errorMessage.contains("staging"))

            let provider = try await server.request(.get, "/api/oidc/provider")
            #expect(provider.json["audiences"] as? [String] == ["localhost", "sts.amazonaws.com"])
            #expect(provider.json["providerHost"] as? String == host)
            #expect(provider.json["warning"] == nil, "a loopback issuer is fine for trying Berth out")
            #expect(
                provider.json["createProviderCommand"] as? String
                    == "aws iam create-open-id-connect-provider --url \(issuerURL(server)) --client-id-list localhost sts.amazonaws.com"
            )
        }
    }

    @Test(
        "AWS needs an HTTPS issuer; the server warns about anything else but loopback",
        arguments: [
            ("http://berth.example.com", true), ("https://berth.example.com", false), ("http://127.0.0.1:8080", false),
            ("http://localhost:8080", false),
        ])
    func httpsWarning(url: String, warns: Bool) throws {
        #expect((try OIDCIssuerConfiguration(publicURL: url).httpsWarning != nil) == warns)
    }

    @Test func aPublicURLThatIsNotAURLIsRefusedByName() throws {
        #expect(throws: BerthError.self) { try OIDCIssuerConfiguration(publicURL: "berth.example.com") }
        #expect(try OIDCIssuerConfiguration(publicURL: "https://berth.example.com/").issuer == "https://berth.example.com")
    }
}
