import AWSCore
import AWSCredentials
import AWSSTS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

@Suite("STS against moto with signature validation")
struct MotoSTSTests {
    static func sts(_ moto: MotoServer, _ credentials: Credentials) throws -> STSClient {
        STSClient(client: try moto.client(for: .sts, credentials: credentials))
    }

    @Test("the right secret is accepted and a wrong one fails with SignatureDoesNotMatch")
    func signatureValidation() async throws {
        try await withMoto { moto, administrator in
            let identity = try await Self.sts(moto, administrator).getCallerIdentity()
            #expect(identity.arn == "arn:aws:iam::123456789012:user/berth-admin")
            #expect(identity.account == "123456789012")

            var wrong = administrator
            wrong.secretAccessKey = "not-the-secret"
            await #expect {
                try await Self.sts(moto, wrong).getCallerIdentity()
            } throws: { error in
                guard let error = error as? AWSError else { return false }
                return error.code == .signatureDoesNotMatch && error.statusCode == 403
                    && !error.description.contains("not-the-secret")
            }

            let unknown = Credentials(accessKeyID: "AKIAUNKNOWN0000000", secretAccessKey: "x")
            await #expect {
                try await Self.sts(moto, unknown).getCallerIdentity()
            } throws: { error in
                (error as? AWSError)?.code == .invalidClientTokenID
            }
        }
    }

    @Test("AssumeRole honours the external ID that the trust policy requires")
    func assumeRoleWithExternalID() async throws {
        try await withMoto(
            role: "Deployer",
            trustPolicy: """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/berth-admin"},\
                "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"tenant-42"}}}]}
                """
        ) { moto, administrator, roleARN in

            let sts = try Self.sts(moto, administrator)
            let role = try await sts.assumeRole(
                AssumeRoleRequest(
                    roleARN: roleARN, roleSessionName: "berth-test", durationSeconds: 900, externalID: "tenant-42",
                    tags: [SessionTag(key: "project", value: "web")]))
            #expect(role.assumedRoleARN == "arn:aws:sts::123456789012:assumed-role/Deployer/berth-test")
            #expect(role.credentials.sessionToken?.isEmpty == false)
            #expect(role.credentials.expiration != nil)

            let asRole = try await Self.sts(moto, role.credentials).getCallerIdentity()
            #expect(asRole.arn == "arn:aws:sts::123456789012:assumed-role/Deployer/berth-test")

            await #expect {
                try await sts.assumeRole(
                    AssumeRoleRequest(roleARN: roleARN, roleSessionName: "berth-test", externalID: "tenant-43"))
            } throws: { error in
                (error as? AWSError)?.code == .accessDenied
            }
        }
    }

    @Test("the credential chain with an assumed role on top, end to end")
    func chainWithAssumeRole() async throws {
        try await withMoto(
            role: "ChainRole",
            trustPolicy:
                #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/berth-admin"},"Action":"sts:AssumeRole"}]}"#
        ) { moto, administrator, roleARN in

            var environment = moto.environment
            environment["AWS_ACCESS_KEY_ID"] = administrator.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = administrator.secretAccessKey
            environment["HOME"] = NSTemporaryDirectory() + "berth-no-home-\(UUID().uuidString)"
            let context = CredentialContext(environment: environment, region: "us-east-1")
            let resolver = try AssumeRoleResolver(
                base: CredentialChain.standard(context: context), options: .init(roleARN: roleARN, sessionName: "chain"),
                context: context)
            let cache = CredentialCache(resolver: resolver)
            let sts = STSClient(
                client: try AWSClient(service: .sts, region: "us-east-1", credentialProvider: cache, environment: environment))
            let identity = try await sts.getCallerIdentity()
            #expect(identity.arn == "arn:aws:sts::123456789012:assumed-role/ChainRole/chain")
            let resolution = try await cache.resolution()
            #expect(resolution.trace.entries.map(\.outcome) == [.used, .skipped, .skipped, .skipped, .skipped, .used])
        }
    }
}
