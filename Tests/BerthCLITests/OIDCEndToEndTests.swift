import AWSCore
import AWSECS
import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// Keyless accounts end to end: the real `berth server` issues tokens; an STS endpoint that verifies
/// them as AWS does (provider and audience from moto's IAM, signature against the JWKS the server
/// serves, the role's trust policy) hands them to moto; ECS calls go to moto with the credentials.
@Suite("OIDC accounts end to end")
struct OIDCEndToEndTests {
    @Test(
        "Registered as printed, an OIDC account tests green and its target health-checks green; a policy for other subjects is refused with the claim named"
    )
    func oidcAccountsWorkWhereAccessKeysDo() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let gate = try await OIDCGate.start(moto: moto)
        defer { gate.stop() }
        let admin = try await moto.createAdministrator(named: "berth-admin")
        let ecs = ECSClient(client: try moto.client(for: .ecs, credentials: admin))
        _ = try await ecs.createCluster(ECS.CreateClusterRequest(clusterName: "keyless"))

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-oidc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var environment = moto.environment.values
        environment["AWS_ENDPOINT_URL_STS"] = gate.endpoint
        environment["HOME"] = root.path
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: environment)
        var outputs: [String] = []
        func berth(_ arguments: [String]) async throws -> BerthProcess.Result {
            let result = try await server.cli(arguments)
            outputs += [result.standardOutput, result.standardError]
            return result
        }

        // Register Berth in IAM with the command it prints, run by the real AWS CLI.
        let provider = try await berth(["oidc", "provider", "--output", "json"])
        #expect(provider.status == 0, "\(provider.standardError)")
        let providerJSON = try ServerEndToEndTests.json(provider.standardOutput)
        #expect(providerJSON["issuer"] as? String == server.url)
        let command = try #require(providerJSON["createProviderCommand"] as? String)
        #expect(command.hasPrefix("aws iam create-open-id-connect-provider --url \(server.url) --client-id-list 127.0.0.1"))
        let aws = URL(fileURLWithPath: try PythonTools.python()).deletingLastPathComponent().appendingPathComponent("aws").path
        let registered = try await BerthProcess.run(
            Array(command.split(separator: " ").dropFirst().map(String.init)),
            environment: moto.environment.values.merging(
                ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "HOME": root.path]) { $1 },
            binary: aws)
        #expect(registered.status == 0, "\(registered.standardError)")

        // The role trusts exactly the subjects `berth account trust-policy` prints.
        #expect(try await berth(["environment", "create", "Production"]).status == 0)
        for (name, role) in [("prod-oidc", "BerthDeployer"), ("narrow", "NarrowRole")] {
            let created = try await berth(
                [
                    "account", "create", "aws-oidc", "--name", name, "--role-arn", "arn:aws:iam::123456789012:role/\(role)",
                    "--claim", #"https://aws.amazon.com/tags={"principal_tags":{"team":["web"]}}"#,
                ])
            #expect(created.status == 0, "\(created.standardError)")
        }
        let policy = try await berth(["account", "trust-policy", "prod-oidc"])
        #expect(policy.status == 0, "\(policy.standardError)")
        let document = try ServerEndToEndTests.json(policy.standardOutput)
        let statement = try #require((document["Statement"] as? [[String: Any]])?.first)
        let conditions = try #require(statement["Condition"] as? [String: [String: Any]])
        let host = String(server.url.dropFirst("http://".count))
        #expect(
            conditions["StringLike"]?["\(host):sub"] as? [String]
                == ["space:default:account:prod-oidc", "space:default:target:*", "space:default:project:*:environment:*"])
        _ = try await moto.createRole(named: "BerthDeployer", trustPolicy: policy.standardOutput)
        let narrowPolicy = try await berth(["account", "trust-policy", "narrow", "--for", "deployments"])
        _ = try await moto.createRole(named: "NarrowRole", trustPolicy: narrowPolicy.standardOutput)

        let test = try await berth(["account", "test", "prod-oidc"])
        #expect(test.status == 0, "\(test.standardOutput)\(test.standardError)")
        #expect(test.standardOutput.contains("arn:aws:sts::123456789012:assumed-role/BerthDeployer/berth"))
        #expect(test.standardOutput.contains(#"sub "space:default:account:prod-oidc" and aud "127.0.0.1""#))
        #expect(test.standardOutput.contains("custom claims https://aws.amazon.com/tags"))

        let target = try await berth(
            [
                "target", "create", "ecs", "--name", "keyless-web", "--environment", "Production", "--role", "web",
                "--region", "us-east-1", "--cluster", "keyless", "--account", "prod-oidc",
            ])
        #expect(target.status == 0, "\(target.standardError)")
        let health = try await berth(["target", "health-check", "keyless-web"])
        #expect(health.status == 0, "\(health.standardOutput)")
        #expect(health.standardOutput.contains(#"sub "space:default:target:keyless-web""#))
        #expect(health.standardOutput.contains("Healthy: The cluster 'keyless' is ACTIVE"))

        // A role that trusts only deployment subjects refuses the account-test token; the log says which claim.
        let refused = try await berth(["account", "test", "narrow"])
        #expect(refused.status == 1)
        #expect(refused.standardOutput.contains("AccessDenied"), "\(refused.standardOutput)")
        #expect(refused.standardOutput.contains("condition on \(host):sub does not match the sub claim"))
        #expect(refused.standardOutput.contains(#""\#(host):sub": "space:default:account:narrow""#))

        // A revoked key is refused by the verifier; the replacement signs at once and works.
        let keys = try ServerEndToEndTests.array(try await berth(["oidc", "keys", "list", "--output", "json"]))
        let active = try #require(keys.first { $0["state"] as? String == "active" }?["kid"] as? String)
        // After "--": a kid (base64url) may start with "-", which would read as an option.
        let revoked = try await berth(["oidc", "keys", "revoke", "--", active])
        #expect(revoked.status == 0, "\(revoked.standardError)")
        let afterRevoke = try await berth(["account", "test", "prod-oidc"])
        #expect(afterRevoke.status == 0, "\(afterRevoke.standardOutput)")
        let listed = try await berth(["oidc", "keys", "list"])
        #expect(listed.standardOutput.contains("revoked"))

        // No token (a JWT is header.payload.signature, the first two base64url JSON, so starting
        // with eyJ, the base64 of {") in any output, the server log or the database; no signing key
        // in clear in the database (they are sealed under the master key). The whole shape is looked
        // for: the three letters alone turn up by chance in sealed keys and the database's pages.
        let databaseFiles = ["berth.sqlite", "berth.sqlite-wal", "berth.sqlite-shm"].map {
            String(
                decoding: (try? Data(contentsOf: server.dataDirectory.appendingPathComponent($0))) ?? Data(), as: UTF8.self)
        }
        #expect(databaseFiles[0].count > 0)
        let everything = outputs + [server.log] + databaseFiles
        let token = #/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/#
        let leaks = everything.compactMap { $0.firstMatch(of: token).map { String($0.output.prefix(40)) } }
        #expect(leaks.isEmpty, "a token in clear: \(leaks)")
        #expect(!everything.contains { $0.contains("PRIVATE KEY") })
    }
}
