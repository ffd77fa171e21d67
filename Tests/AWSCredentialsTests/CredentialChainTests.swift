import AWSCore
import AWSCredentials
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

@Suite("The credential chain: environment, profiles, order and traces")
struct CredentialChainTests {
    @Test("environment variables come first, and the trace says the rest were not needed")
    func environmentFirst() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            ".aws/credentials", "[default]\naws_access_key_id = AKIAFROMFILE\naws_secret_access_key = file-secret\n")
        let environment = isolatedEnvironment(
            directory,
            ["AWS_ACCESS_KEY_ID": "AKIAFROMENV0001", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"])
        let resolution = try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
        #expect(
            resolution.credentials
                == Credentials(accessKeyID: "AKIAFROMENV0001", secretAccessKey: "env-secret", sessionToken: "env-token"))
        #expect(
            resolution.outcomes == [
                "environment variables: used", "shared config and credentials files: skipped", "web identity token file: skipped",
                "container credentials: skipped", "IMDSv2: skipped",
            ])
        #expect(resolution.trace.entries[0].detail == "temporary access key AKIA…0001 from AWS_ACCESS_KEY_ID")
    }

    @Test("half-set environment keys are an error that names the missing variable")
    func halfSetEnvironment() async throws {
        let directory = try TemporaryDirectory()
        let chain = CredentialChain.standard(
            context: CredentialContext(environment: isolatedEnvironment(directory, ["AWS_ACCESS_KEY_ID": "AKIA1"])))
        await #expect {
            try await chain.resolve()
        } throws: { error in
            guard let error = error as? CredentialResolutionError else { return false }
            return error.message.contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
                && error.trace.entries.last?.outcome == .failed
        }
    }

    @Test("the default profile's static keys from the credentials file")
    func defaultProfile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            ".aws/credentials",
            "# comment\n[default]\naws_access_key_id = AKIAFILE00000001\naws_secret_access_key = file-secret ; inline\n")
        try directory.write(".aws/config", "[default]\nregion = eu-west-1\n[profile other]\nregion = us-west-2\n")
        let resolution = try await CredentialChain.standard(
            context: CredentialContext(environment: isolatedEnvironment(directory))
        )
        .resolve()
        #expect(resolution.credentials.accessKeyID == "AKIAFILE00000001")
        #expect(resolution.credentials.secretAccessKey == "file-secret")
        #expect(resolution.source == "shared config and credentials files: access key AKIA…0001 of the profile 'default'")
        let files = try SharedConfigFiles.load(isolatedEnvironment(directory))
        #expect(files.region(profile: "default") == "eu-west-1")
        #expect(files.region(profile: "other") == "us-west-2")
    }

    @Test("an explicit profile replaces the environment variables")
    func explicitProfile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(".aws/config", "[profile deploy]\naws_access_key_id = AKIADEPLOY000001\naws_secret_access_key = s\n")
        let environment = isolatedEnvironment(directory, ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "e"])
        let resolution = try await CredentialChain.standard(
            context: CredentialContext(environment: environment, profile: "deploy")
        )
        .resolve()
        #expect(resolution.credentials.accessKeyID == "AKIADEPLOY000001")
        #expect(resolution.trace.entries[0].outcome == .skipped)
        #expect(resolution.trace.entries[0].detail == "the profile 'deploy' was chosen explicitly")
    }

    @Test("a profile that does not exist is an error when it was asked for by name")
    func missingProfile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(".aws/config", "[default]\nregion = eu-west-1\n")
        let chain = CredentialChain.standard(
            context: CredentialContext(environment: isolatedEnvironment(directory, ["AWS_PROFILE": "nope"])))
        await #expect {
            try await chain.resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains("The profile 'nope' is not in") == true
        }
    }

    @Test("a malformed config file names the file and line")
    func malformedConfig() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write(".aws/config", "[default]\nregion = eu-west-1\nthis line has no equals sign\n")
        let chain = CredentialChain.standard(context: CredentialContext(environment: isolatedEnvironment(directory)))
        await #expect {
            try await chain.resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains("\(file) line 3: expected 'key = value'") == true
        }
    }

    @Test("role_arn with source_profile and external_id assumes the role with the source's keys")
    func assumeRoleProfile() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            ".aws/config",
            """
            [profile base]
            aws_access_key_id = AKIABASE00000001
            aws_secret_access_key = base-secret
            [profile deployer]
            role_arn = arn:aws:iam::123456789012:role/Deployer
            source_profile = base
            external_id = tenant-42
            role_session_name = ci-run
            duration_seconds = 1800
            """)
        let sts = FakeSTS()
        try await withLocalServer(sts.router) { url in
            let environment = isolatedEnvironment(directory, ["AWS_ENDPOINT_URL_STS": url])
            let resolution = try await CredentialChain.standard(
                context: CredentialContext(environment: environment, profile: "deployer")
            ).resolve()
            #expect(resolution.credentials.accessKeyID == "ASIAFAKESTS1")
            #expect(
                resolution.source.contains(
                    "assumed arn:aws:iam::123456789012:role/Deployer with an external ID as session ci-run"))
            #expect(resolution.trace.entries.contains { $0.source == "source of profile 'deployer'" && $0.outcome == .used })
        }
        let call = try #require(sts.calls.first)
        #expect(call.action == "AssumeRole")
        #expect(call.signed)
        #expect(call.parameters["ExternalId"] == "tenant-42")
        #expect(call.parameters["RoleSessionName"] == "ci-run")
        #expect(call.parameters["DurationSeconds"] == "1800")
    }

    @Test("source_profile loops are reported")
    func profileLoop() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            ".aws/config",
            """
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/A
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/B
            source_profile = a
            """)
        let chain = CredentialChain.standard(
            context: CredentialContext(environment: isolatedEnvironment(directory), profile: "a"))
        await #expect {
            try await chain.resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains("The profiles form a loop: a → b → a.") == true
        }
    }

    @Test("no secret reaches the trace, the source or an error message")
    func noSecretsInTraces() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            ".aws/config",
            "[profile p]\naws_access_key_id = AKIASECRETTEST01\naws_secret_access_key = SUPER-SECRET-VALUE\naws_session_token = TOKEN-VALUE\n"
        )
        let resolution = try await CredentialChain.standard(
            context: CredentialContext(environment: isolatedEnvironment(directory), profile: "p")
        )
        .resolve()
        let everything = "\(resolution.trace) \(resolution.source) \(resolution.credentials)"
        #expect(!everything.contains("SUPER-SECRET-VALUE"))
        #expect(!everything.contains("TOKEN-VALUE"))
        let encoded = String(decoding: try JSONEncoder().encode(resolution.trace), as: UTF8.self)
        #expect(!encoded.contains("SUPER-SECRET-VALUE"))
    }

    @Test("nothing configured: every source skipped, with reasons")
    func nothingConfigured() async throws {
        let directory = try TemporaryDirectory()
        let chain = CredentialChain.standard(context: CredentialContext(environment: isolatedEnvironment(directory)))
        await #expect {
            try await chain.resolve()
        } throws: { error in
            guard let error = error as? CredentialResolutionError else { return false }
            return error.trace.entries.count == 5 && error.trace.entries.allSatisfy { $0.outcome == .skipped }
                && error.trace.entries[4].detail == "AWS_EC2_METADATA_DISABLED is true"
        }
    }
}
