import AWSCore
import AWSCredentials
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

let roleKeys = Credentials(
    accessKeyID: "ASIAROLE00000001", secretAccessKey: "role-secret", sessionToken: "role-token",
    expiration: Date(timeIntervalSince1970: 1_795_003_600))

@Suite("Web identity token file")
struct WebIdentityTests {
    @Test("the token file is read anew on every resolution and sent unsigned; session name is optional")
    func rereadsTokenFile() async throws {
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("token", "first.jwt.token\n")
        let sts = FakeSTS()
        try await withLocalServer(sts.router) { url in
            let environment = isolatedEnvironment(
                directory,
                [
                    "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/irsa",
                    "AWS_ENDPOINT_URL_STS": url,
                ])
            let chain = CredentialChain.standard(context: CredentialContext(environment: environment, clock: TestClock()))
            let first = try await chain.resolve()
            try directory.write("token", "second.jwt.token")
            _ = try await chain.resolve()
            #expect(first.credentials.accessKeyID == "ASIAFAKESTS1")
            #expect(first.credentials.expiration == Date(timeIntervalSince1970: 1_795_003_600))
            #expect(
                first.outcomes.prefix(3) == [
                    "environment variables: skipped", "shared config and credentials files: skipped",
                    "web identity token file: used",
                ])
        }
        #expect(sts.calls.map(\.parameters["WebIdentityToken"]) == ["first.jwt.token", "second.jwt.token"])
        #expect(sts.calls.allSatisfy { !$0.signed && $0.action == "AssumeRoleWithWebIdentity" })
        #expect(sts.calls[0].parameters["RoleSessionName"] == "berth-1795000000000")
    }

    @Test("a token file without a role ARN is a clear error")
    func missingRole() async throws {
        let directory = try TemporaryDirectory()
        let chain = CredentialChain.standard(
            context: CredentialContext(environment: isolatedEnvironment(directory, ["AWS_WEB_IDENTITY_TOKEN_FILE": "/x"])))
        await #expect {
            try await chain.resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
                == true
        }
    }

    @Test("an unreadable token file names the file")
    func unreadableFile() async throws {
        let directory = try TemporaryDirectory()
        let environment = isolatedEnvironment(
            directory,
            ["AWS_WEB_IDENTITY_TOKEN_FILE": "\(directory.path)/missing", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/r"])
        await #expect {
            try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains(
                "Cannot read the web identity token file \(directory.path)/missing") == true
        }
    }
}

@Suite("Container credentials")
struct ContainerCredentialsTests {
    @Test("a relative URI is fetched from the agent's address")
    func relativeURI() async throws {
        let endpoint = FakeContainerCredentialsEndpoint(credentials: roleKeys)
        try await withLocalServer(endpoint.router) { url in
            let directory = try TemporaryDirectory()
            let context = CredentialContext(
                environment: isolatedEnvironment(
                    directory, ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-role"]))
            let resolution = try await CredentialChain(sources: [ContainerCredentialSource(relativeBase: url)], context: context)
                .resolve()
            #expect(resolution.credentials == roleKeys)
            #expect(resolution.source.contains("for arn:aws:iam::123456789012:role/task-role"))
        }
    }

    @Test("a full URI on loopback with a token file (EKS Pod Identity)")
    func fullURIWithTokenFile() async throws {
        let endpoint = FakeContainerCredentialsEndpoint(credentials: roleKeys, requiredToken: "pod-identity-token")
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("eks-pod-identity-token", "pod-identity-token\n")
        try await withLocalServer(endpoint.router) { url in
            let environment = isolatedEnvironment(
                directory,
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/v2/credentials/task-role",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored",
                ])
            let resolution = try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
            #expect(resolution.credentials == roleKeys)
            #expect(resolution.outcomes.contains("container credentials: used"))
        }
    }

    @Test("a wrong token is reported with the endpoint's code")
    func wrongToken() async throws {
        let endpoint = FakeContainerCredentialsEndpoint(credentials: roleKeys, requiredToken: "right")
        try await withLocalServer(endpoint.router) { url in
            let directory = try TemporaryDirectory()
            let environment = isolatedEnvironment(
                directory,
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/v2/credentials/task-role",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong",
                ])
            await #expect {
                try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
            } throws: { error in
                guard let error = error as? CredentialResolutionError else { return false }
                return error.message.contains("answered HTTP 403 AccessDenied") && error.awsErrorCode == .accessDenied
                    && !error.message.contains("wrong")
            }
        }
    }

    @Test(
        "full URIs outside the allow-list are refused",
        arguments: ["http://10.0.0.5/creds", "http://example.com/creds", "ftp://127.0.0.1/creds"])
    func refusedHosts(uri: String) async throws {
        let directory = try TemporaryDirectory()
        let environment = isolatedEnvironment(directory, ["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri])
        await #expect {
            try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI") == true
        }
    }

    @Test("a token with a line break inside is refused")
    func tokenWithNewline() async throws {
        let directory = try TemporaryDirectory()
        let environment = isolatedEnvironment(
            directory,
            [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "abc\r\nX-Injected: 1",
            ])
        await #expect {
            try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
        } throws: { error in
            (error as? CredentialResolutionError)?.message.contains("contains a line break") == true
        }
    }
}

@Suite("IMDSv2")
struct InstanceMetadataTests {
    @Test("token first, then the role and its credentials; the token is reused")
    func success() async throws {
        let imds = FakeInstanceMetadataService(credentials: roleKeys)
        try await withLocalServer(imds.router) { url in
            let directory = try TemporaryDirectory()
            var environment = isolatedEnvironment(
                directory, ["AWS_EC2_METADATA_SERVICE_ENDPOINT": url + "/", "AWS_METADATA_SERVICE_TIMEOUT": "10"])
            environment["AWS_EC2_METADATA_DISABLED"] = nil
            let chain = CredentialChain.standard(context: CredentialContext(environment: environment))
            let first = try await chain.resolve()
            _ = try await chain.resolve()
            #expect(first.credentials == roleKeys)
            #expect(first.source.contains("of the instance role berth-worker"))
        }
        #expect(imds.requestCounts == .init(tokenRequests: 1, credentialRequests: 2, requestsWithoutToken: 0))
    }

    @Test("a token request that gets no answer fails within 2 s and names the hop limit")
    func tokenNeverAnswers() async throws {
        let imds = FakeInstanceMetadataService(credentials: roleKeys, tokenNeverAnswers: true)
        try await withLocalServer(imds.router) { url in
            let directory = try TemporaryDirectory()
            var environment = isolatedEnvironment(directory, ["AWS_EC2_METADATA_SERVICE_ENDPOINT": url])
            environment["AWS_EC2_METADATA_DISABLED"] = nil
            let started = ContinuousClock.now
            await #expect {
                try await CredentialChain.standard(context: CredentialContext(environment: environment)).resolve()
            } throws: { error in
                guard let error = error as? CredentialResolutionError else { return false }
                return error.message.contains("got no answer in 1 s")
                    && error.message.contains("--http-put-response-hop-limit 2")
                    && error.message.contains("hop limit is 1")
            }
            // The request gives up after IMDS's 1 s timeout (the message says so); the bound here only
            // proves that nothing waits for the server, with room for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(5))
        }
        #expect(imds.requestCounts.credentialRequests == 0, "never falls back to IMDSv1")
    }
}

@Suite("Assume role on top of a source")
struct AssumeRoleTests {
    static let base = CredentialChain(
        sources: [StaticCredentialSource(Credentials(accessKeyID: "AKIABASE", secretAccessKey: "base"))],
        context: CredentialContext())

    @Test(
        "bad options are refused before any call",
        arguments: [
            (AssumeRoleResolver.Options(roleARN: "arn:aws:iam::123:role/x"), "is not an IAM role ARN"),
            (AssumeRoleResolver.Options(roleARN: "arn:aws:s3:::bucket"), "is not an IAM role ARN"),
            (
                .init(roleARN: "arn:aws:iam::123456789012:role/x", sessionName: "has space"),
                "role session name 'has space' is not valid"
            ),
            (
                .init(roleARN: "arn:aws:iam::123456789012:role/x", sessionName: String(repeating: "a", count: 65)),
                "2 to 64 characters"
            ),
            (.init(roleARN: "arn:aws:iam::123456789012:role/x", durationSeconds: 899), "900 to 43200 seconds"),
            (.init(roleARN: "arn:aws:iam::123456789012:role/x", durationSeconds: 43_201), "900 to 43200 seconds"),
            (.init(roleARN: "arn:aws:iam::123456789012:role/x", externalID: "secret id!"), "The external ID is not valid"),
            (.init(roleARN: "arn:aws:iam::123456789012:role/x", externalID: "x"), "The external ID is not valid"),
        ])
    func validation(options: AssumeRoleResolver.Options, message: String) {
        #expect {
            try AssumeRoleResolver(base: Self.base, options: options, context: CredentialContext())
        } throws: { error in
            guard let error = error as? AWSClientError else { return false }
            return error.code == .invalidRequest && error.message.contains(message) && !error.message.contains("secret id!")
        }
    }

    @Test("a blank session name is generated; external ID and duration are sent; the trace records the step")
    func assumes() async throws {
        let sts = FakeSTS()
        try await withLocalServer(sts.router) { url in
            let context = CredentialContext(environment: ["AWS_ENDPOINT_URL_STS": url], region: "eu-west-1", clock: TestClock())
            let resolver = try AssumeRoleResolver(
                base: Self.base,
                options: .init(
                    roleARN: "arn:aws:iam::123456789012:role/Deployer", sessionName: " ", durationSeconds: 900,
                    externalID: "ext-123"),
                context: context)
            let resolution = try await resolver.resolve()
            #expect(resolution.credentials.sessionToken == "fake-token-1")
            #expect(
                resolution.trace.entries.last
                    == .init(
                        source: "assume role arn:aws:iam::123456789012:role/Deployer", outcome: .used,
                        detail: "session berth-1795000000000, external ID given, 900 s"))
        }
        #expect(sts.calls.first?.parameters["RoleSessionName"] == "berth-1795000000000")
        #expect(sts.calls.first?.parameters["ExternalId"] == "ext-123")
        #expect(sts.calls.first?.parameters["DurationSeconds"] == "900")
    }

    @Test("AccessDenied from STS keeps its code")
    func accessDenied() async throws {
        let sts = FakeSTS()
        sts.failNext("AccessDenied")
        try await withLocalServer(sts.router) { url in
            let context = CredentialContext(environment: ["AWS_ENDPOINT_URL_STS": url])
            let resolver = try AssumeRoleResolver(
                base: Self.base, options: .init(roleARN: "arn:aws:iam::123456789012:role/Deployer"), context: context)
            await #expect {
                try await resolver.resolve()
            } throws: { error in
                guard let error = error as? CredentialResolutionError else { return false }
                return error.awsErrorCode == .accessDenied && error.trace.entries.last?.outcome == .failed
            }
        }
    }
}
