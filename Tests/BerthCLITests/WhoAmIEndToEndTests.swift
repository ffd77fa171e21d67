import AWSCore
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// `berth aws whoami`, the real binary, against moto with signature validation.
@Suite("berth aws whoami end to end")
struct WhoAmIEndToEndTests {
    static let trustAdministrator =
        #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/berth-admin"},"Action":"sts:AssumeRole"}]}"#

    /// The base environment of every run: moto's endpoint, an empty HOME, no metadata service.
    static func environment(_ moto: MotoServer, home: String, _ extra: [String: String] = [:]) -> [String: String] {
        var values = moto.environment.values
        values["HOME"] = home
        values.merge(extra) { _, new in new }
        return values
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func temporaryHome() throws -> String {
        let path = NSTemporaryDirectory() + "berth-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
        return path
    }

    @Test("access keys from the environment, with and without an assumed role")
    func environmentKeys() async throws {
        try await withMoto(role: "Deployer", trustPolicy: Self.trustAdministrator) { moto, administrator, roleARN in
            let home = try Self.temporaryHome()
            defer { try? FileManager.default.removeItem(atPath: home) }
            let environment = Self.environment(
                moto, home: home,
                ["AWS_ACCESS_KEY_ID": administrator.accessKeyID, "AWS_SECRET_ACCESS_KEY": administrator.secretAccessKey])

            let plain = try await BerthProcess.run(["aws", "whoami", "--output", "json"], environment: environment)
            #expect(plain.status == 0, "\(plain.standardError)")
            let identity = try Self.json(plain.standardOutput)
            #expect(identity["arn"] as? String == "arn:aws:iam::123456789012:user/berth-admin")
            #expect(identity["account"] as? String == "123456789012")
            #expect((identity["source"] as? String)?.hasPrefix("environment variables") == true)
            #expect(identity["trace"] == nil)

            let assumed = try await BerthProcess.run(
                [
                    "aws", "whoami", "--assume-role-arn", roleARN, "--session-name", "cli-test", "--session-duration", "900",
                    "--explain",
                ],
                environment: environment)
            #expect(assumed.status == 0, "\(assumed.standardError)")
            #expect(assumed.standardOutput.contains("ARN      arn:aws:sts::123456789012:assumed-role/Deployer/cli-test"))
            #expect(assumed.standardOutput.contains("✓ environment variables: used"))
            #expect(assumed.standardOutput.contains("✓ assume role \(roleARN): used — session cli-test, 900 s"))
            #expect(!assumed.standardOutput.contains(administrator.secretAccessKey))
        }
    }

    @Test("a wrong secret fails with SignatureDoesNotMatch and exit code 1, and the secret is not printed")
    func wrongSecret() async throws {
        try await withMoto { moto, administrator in
            let home = try Self.temporaryHome()
            let result = try await BerthProcess.run(
                ["aws", "whoami"],
                environment: Self.environment(
                    moto, home: home,
                    ["AWS_ACCESS_KEY_ID": administrator.accessKeyID, "AWS_SECRET_ACCESS_KEY": "WRONG-SECRET-123"]))
            #expect(result.status == 1)
            #expect(result.standardError.contains("SignatureDoesNotMatch"))
            #expect(!(result.standardError + result.standardOutput).contains("WRONG-SECRET-123"))
        }
    }

    @Test("a profile with role_arn, source_profile and external_id")
    func profileWithExternalID() async throws {
        try await withMoto(
            role: "Tenant",
            trustPolicy: """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/berth-admin"},\
                "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"tenant-42"}}}]}
                """
        ) { moto, administrator, roleARN in
            let home = try Self.temporaryHome()
            defer { try? FileManager.default.removeItem(atPath: home) }
            try """
            [base]
            aws_access_key_id = \(administrator.accessKeyID)
            aws_secret_access_key = \(administrator.secretAccessKey)
            """.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8)
            try """
            [profile tenant]
            role_arn = \(roleARN)
            source_profile = base
            external_id = tenant-42
            role_session_name = from-profile
            region = us-east-1
            """.write(toFile: home + "/.aws/config", atomically: true, encoding: .utf8)

            let result = try await BerthProcess.run(
                ["aws", "whoami", "--profile", "tenant", "--output", "json", "--explain"],
                environment: Self.environment(moto, home: home))
            #expect(result.status == 0, "\(result.standardError)")
            let identity = try Self.json(result.standardOutput)
            #expect(identity["arn"] as? String == "arn:aws:sts::123456789012:assumed-role/Tenant/from-profile")
            let trace = try #require(identity["trace"] as? [[String: String]])
            #expect(trace.first?["detail"] == "the profile 'tenant' was chosen explicitly")
        }
    }

    @Test("a web identity token file (unsigned AssumeRoleWithWebIdentity)")
    func webIdentity() async throws {
        try await withMoto(authenticated: false) { moto, _ in
            let roleARN = try await moto.createRole(
                named: "IRSA",
                trustPolicy:
                    #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/berth.example.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#
            )
            let home = try Self.temporaryHome()
            let tokenFile = home + "/token"
            try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrZXIifQ.c2ln".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let result = try await BerthProcess.run(
                ["aws", "whoami", "--explain"],
                environment: Self.environment(
                    moto, home: home,
                    ["AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": roleARN, "AWS_ROLE_SESSION_NAME": "irsa-worker"]))
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("assumed-role/IRSA/irsa-worker"))
            #expect(result.standardOutput.contains("✓ web identity token file: used"))
        }
    }

    @Test("container credentials and IMDSv2, each with an assumed role on top")
    func containerAndInstanceMetadata() async throws {
        try await withMoto(role: "OnTop", trustPolicy: Self.trustAdministrator) { moto, administrator, roleARN in
            let home = try Self.temporaryHome()
            defer { try? FileManager.default.removeItem(atPath: home) }

            let container = FakeContainerCredentialsEndpoint(credentials: administrator, requiredToken: "agent-token")
            try await withLocalServer(container.router) { url in
                let environment = Self.environment(
                    moto, home: home,
                    [
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": url + container.path,
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "agent-token",
                        // A loaded CI machine can take longer than the 2 s default to answer locally.
                        "AWS_METADATA_SERVICE_TIMEOUT": "10",
                    ])
                let direct = try await BerthProcess.run(["aws", "whoami", "--output", "json"], environment: environment)
                #expect(direct.status == 0, "\(direct.standardError)")
                #expect(try Self.json(direct.standardOutput)["arn"] as? String == "arn:aws:iam::123456789012:user/berth-admin")
                #expect((try Self.json(direct.standardOutput)["source"] as? String)?.hasPrefix("container credentials") == true)

                let onTop = try await BerthProcess.run(
                    ["aws", "whoami", "--output", "json", "--assume-role-arn", roleARN, "--session-name", "from-container"],
                    environment: environment)
                #expect(
                    try Self.json(onTop.standardOutput)["arn"] as? String
                        == "arn:aws:sts::123456789012:assumed-role/OnTop/from-container", "\(onTop.standardError)")
            }

            let imds = FakeInstanceMetadataService(credentials: administrator)
            try await withLocalServer(imds.router) { url in
                // A loaded CI machine can take longer than IMDS's 1 s default to answer locally.
                var environment = Self.environment(
                    moto, home: home, ["AWS_EC2_METADATA_SERVICE_ENDPOINT": url, "AWS_METADATA_SERVICE_TIMEOUT": "10"])
                environment["AWS_EC2_METADATA_DISABLED"] = nil
                let direct = try await BerthProcess.run(["aws", "whoami", "--explain"], environment: environment)
                #expect(direct.status == 0, "\(direct.standardError)")
                #expect(direct.standardOutput.contains("ARN      arn:aws:iam::123456789012:user/berth-admin"))
                #expect(direct.standardOutput.contains("✓ IMDSv2: used — temporary access key"))

                let onTop = try await BerthProcess.run(
                    ["aws", "whoami", "--assume-role-arn", roleARN, "--session-name", "from-imds"], environment: environment)
                #expect(onTop.standardOutput.contains("assumed-role/OnTop/from-imds"), "\(onTop.standardError)")
            }
        }
    }

    @Test("usage errors exit 2, an unreachable endpoint exits 3, a bad region names it")
    func exitCodes() async throws {
        let home = try Self.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let keys = [
            "HOME": home, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_EC2_METADATA_DISABLED": "true",
        ]

        let usage = try await BerthProcess.run(["aws", "whoami", "--session-name", "x"], environment: keys)
        #expect(usage.status == 2)
        #expect(usage.standardError.contains("--session-name only applies with --assume-role-arn"))

        let badDuration = try await BerthProcess.run(
            ["aws", "whoami", "--assume-role-arn", "arn:aws:iam::123456789012:role/x", "--session-duration", "60"],
            environment: keys)
        #expect(badDuration.status == 2)
        #expect(badDuration.standardError.contains("900 to 43200"))

        let region = try await BerthProcess.run(["aws", "whoami", "--region", "eu-wset-1"], environment: keys)
        #expect(region.status == 2)
        #expect(region.standardError.contains("did you mean 'eu-west-1'?"))

        var unreachable = keys
        unreachable["AWS_ENDPOINT_URL"] = "http://127.0.0.1:\(try freeLoopbackPort())"
        let down = try await BerthProcess.run(["aws", "whoami"], environment: unreachable)
        #expect(down.status == 3, "\(down.standardError)")
        #expect(down.standardError.contains("Could not reach 127.0.0.1"))
    }
}
