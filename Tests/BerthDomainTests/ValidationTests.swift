import BerthDomain
import Foundation
import Testing

@Suite("Account and target rules")
struct ValidationTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func failure(_ body: () throws -> Void) -> BerthError? {
        do {
            try body()
            return nil
        } catch {
            return error as? BerthError
        }
    }

    @Test("An access key account names every missing or malformed field, and never repeats the secret")
    func accessKeyAccount() throws {
        let secretWithSpace = "secret with space"
        let draft = AccountDraft(
            kind: .awsAccessKey, name: "", region: "eu-west-9", accessKeyID: "akia-lower", secretKey: secretWithSpace)
        let error = try #require(failure { try draft.validate() })
        #expect(error.code == .validationFailed)
        #expect(Set(error.details.map(\.field)) == ["name", "region", "accessKeyId", "secretKey"])
        #expect(!error.message.contains(secretWithSpace))
        #expect(error.message.contains("eu-west-9"))
    }

    @Test("An update may leave out the stored secret; a new account may not")
    func storedSecret() {
        let draft = AccountDraft(kind: .awsAccessKey, name: "ops", accessKeyID: "AKIAIOSFODNN7EXAMPLE")
        #expect(failure { try draft.validate() }?.details.map(\.field) == ["secretKey"])
        #expect(failure { try draft.validate(secretIsStored: true) } == nil)
    }

    @Test("An OIDC account needs a role ARN, a duration in range and known subject parts")
    func oidcAccount() throws {
        let draft = AccountDraft(
            kind: .awsOIDC, name: "keyless", roleARN: "arn:aws:iam::123:role/x", sessionDuration: 60,
            subjectKeys: ["space", "colour"])
        let error = try #require(failure { try draft.validate() })
        #expect(Set(error.details.map(\.field)) == ["roleArn", "sessionDuration", "subjectKeys"])
        #expect(error.message.contains("colour"))
    }

    func environment(_ name: String) -> Environment {
        Environment(spaceID: "s", name: name, sortOrder: 0, createdAt: now)
    }

    @Test("A target checks roles, credentials, assume role, region and cluster together")
    func target() throws {
        let draft = TargetDraft(
            name: "web", environments: [], roles: ["bad role"], account: nil, useWorkerCredentials: false,
            assumeRole: AssumeRoleSettings(
                roleARN: "arn:aws:iam::123456789012:user/x", sessionName: "a", sessionDuration: 100, externalID: "has space"),
            region: "us-est-1", clusterName: "my cluster")
        let error = try #require(failure { try draft.validate() })
        #expect(
            Set(error.details.map(\.field)) == [
                "environments", "roles", "account", "assumeRole.roleArn", "assumeRole.sessionName", "assumeRole.sessionDuration",
                "assumeRole.externalId", "region", "clusterName",
            ])
        #expect(error.message.contains("did you mean 'us-east-1'"))
        #expect(!error.message.contains("has space"))
    }

    @Test("An account restricted to other environments cannot serve a target")
    func restrictedAccount() throws {
        let production = environment("Production")
        let staging = environment("Staging")
        let account = Account(
            spaceID: "s", kind: .awsAccessKey, name: "prod-only", environmentIDs: [production.id], createdAt: now)
        let draft = TargetDraft(
            name: "web", environments: [production, staging], roles: ["web"], account: account, useWorkerCredentials: false,
            assumeRole: nil, region: "eu-west-1", clusterName: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod")
        let error = try #require(failure { try draft.validate() })
        #expect(error.details.count == 1)
        #expect(error.details[0].message.contains("'Staging'"))
        let valid = TargetDraft(
            name: "web", environments: [production], roles: ["web"], account: account, useWorkerCredentials: false,
            assumeRole: nil, region: "eu-west-1", clusterName: "prod")
        #expect(failure { try valid.validate() } == nil)
    }
}
