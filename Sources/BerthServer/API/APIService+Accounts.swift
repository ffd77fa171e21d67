import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

extension APIService {
    func listAccounts(_ input: Operations.ListAccounts.Input) async throws -> Operations.ListAccounts.Output {
        let space = try await space(input.path.space)
        let names = try await environmentNames(space.id)
        let page = try Paging.page(
            try await store.listAccounts(spaceID: space.id), limit: try Paging.limit(input.query.limit, default: 1000),
            after: input.query.after, id: \.id)
        return .ok(
            .init(body: .json(.init(items: page.items.map { .init($0, environmentNames: names) }, nextCursor: page.nextCursor))))
    }

    func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        let space = try await space(input.path.space)
        let account = try await store.account(input.path.account, spaceID: space.id)
        return .ok(.init(body: .json(.init(account, environmentNames: try await environmentNames(space.id)))))
    }

    func createAccount(_ input: Operations.CreateAccount.Input) async throws -> Operations.CreateAccount.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the account as JSON.") }
        let space = try await space(input.path.space)
        let draft = AccountDraft(
            kind: Account.Kind(body._type), name: body.name, description: body.description ?? "", region: body.region,
            accessKeyID: body.accessKeyId, secretKey: body.secretKey, roleARN: body.roleArn,
            sessionDuration: body.sessionDuration, audience: body.audience, subjectKeys: body.subjectKeys ?? [],
            customClaims: body.customClaims?.additionalProperties ?? [:])
        try draft.validate()
        let environments = try await resolveEnvironments(body.environments ?? [], spaceID: space.id, field: "environments")
        let time = now()
        var account = Account(
            spaceID: space.id, kind: draft.kind, name: draft.name, description: draft.description,
            environmentIDs: environments.map(\.id), region: draft.region, accessKeyID: draft.accessKeyID, roleARN: draft.roleARN,
            sessionDuration: draft.kind == .awsOIDC ? (draft.sessionDuration ?? Account.defaultOIDCSessionDuration) : nil,
            audience: draft.audience, subjectKeys: draft.subjectKeys, customClaims: draft.customClaims, createdAt: time)
        if let secret = draft.secretKey {
            account.secretKey = try secrets.seal(secret, for: .accountSecretKey(accountID: account.id))
        }
        let created = try await store.createAccount(account)
        return .created(.init(body: .json(.init(created, environmentNames: try await environmentNames(space.id)))))
    }

    func updateAccount(_ input: Operations.UpdateAccount.Input) async throws -> Operations.UpdateAccount.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        let space = try await space(input.path.space)
        var account = try await store.account(input.path.account, spaceID: space.id)
        let draft = AccountDraft(
            kind: account.kind, name: body.name ?? account.name, description: body.description ?? account.description,
            region: body.region ?? account.region, accessKeyID: body.accessKeyId ?? account.accessKeyID,
            secretKey: body.secretKey, roleARN: body.roleArn ?? account.roleARN,
            sessionDuration: body.sessionDuration ?? account.sessionDuration, audience: body.audience ?? account.audience,
            subjectKeys: body.subjectKeys ?? account.subjectKeys,
            customClaims: body.customClaims?.additionalProperties ?? account.customClaims)
        try draft.validate(secretIsStored: account.secretKey != nil)
        if let references = body.environments {
            account.environmentIDs = try await resolveEnvironments(references, spaceID: space.id, field: "environments").map(\.id)
        }
        account.name = draft.name
        account.description = draft.description
        account.region = draft.region
        account.accessKeyID = draft.accessKeyID
        account.roleARN = draft.roleARN
        account.sessionDuration = draft.sessionDuration
        account.audience = draft.audience
        account.subjectKeys = draft.subjectKeys
        account.customClaims = draft.customClaims
        account.updatedAt = now()
        if let secret = draft.secretKey {
            account.secretKey = try secrets.seal(secret, for: .accountSecretKey(accountID: account.id))
        }
        let updated = try await store.updateAccount(account)
        return .ok(.init(body: .json(.init(updated, environmentNames: try await environmentNames(space.id)))))
    }

    func deleteAccount(_ input: Operations.DeleteAccount.Input) async throws -> Operations.DeleteAccount.Output {
        let space = try await space(input.path.space)
        let account = try await store.account(input.path.account, spaceID: space.id)
        try await store.deleteAccount(id: account.id)
        return .noContent(.init())
    }

    func testAccount(_ input: Operations.TestAccount.Input) async throws -> Operations.TestAccount.Output {
        let space = try await space(input.path.space)
        let account = try await store.account(input.path.account, spaceID: space.id)
        let task = try await engine.testAccount(account, queuedBy: try Access.caller().user.username)
        return .accepted(.init(body: .json(.init(task, spaceName: space.name))))
    }
}
