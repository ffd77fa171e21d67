import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listAccounts(_ input: Operations.ListAccounts.Input) async throws -> Operations.ListAccounts.Output {
        let requester = try requester()
        let accounts = try await useCases.listAccounts(space: input.path.space, by: requester)
        let page = try Paging.page(
            accounts, limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        let names = try await environmentNames(spaceID: accounts.first?.spaceID ?? "")
        return .ok(
            .init(body: .json(.init(items: page.items.map { .init($0, environmentNames: names) }, nextCursor: page.nextCursor))))
    }

    func getAccount(_ input: Operations.GetAccount.Input) async throws -> Operations.GetAccount.Output {
        let requester = try requester()
        let account = try await useCases.account(input.path.account, space: input.path.space, by: requester)
        return .ok(.init(body: .json(.init(account, environmentNames: try await environmentNames(spaceID: account.spaceID)))))
    }

    func createAccount(_ input: Operations.CreateAccount.Input) async throws -> Operations.CreateAccount.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the account as JSON.") }
        let requester = try requester()
        let draft = AccountDraft(
            kind: Account.Kind(body._type), name: body.name, description: body.description ?? "", region: body.region,
            accessKeyID: body.accessKeyId, secretKey: body.secretKey, roleARN: body.roleArn,
            sessionDuration: body.sessionDuration, audience: body.audience, subjectKeys: body.subjectKeys ?? [],
            customClaims: body.customClaims?.additionalProperties ?? [:])
        let created = try await useCases.createAccount(
            draft, environments: body.environments ?? [], space: input.path.space, by: requester)
        return .created(
            .init(body: .json(.init(created, environmentNames: try await environmentNames(spaceID: created.spaceID)))))
    }

    func updateAccount(_ input: Operations.UpdateAccount.Input) async throws -> Operations.UpdateAccount.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        let requester = try requester()
        let change = UseCases.AccountChange(
            name: body.name, description: body.description, region: body.region, accessKeyID: body.accessKeyId,
            secretKey: body.secretKey, roleARN: body.roleArn, sessionDuration: body.sessionDuration, audience: body.audience,
            subjectKeys: body.subjectKeys, customClaims: body.customClaims?.additionalProperties,
            environments: body.environments)
        let updated = try await useCases.updateAccount(input.path.account, change, space: input.path.space, by: requester)
        return .ok(.init(body: .json(.init(updated, environmentNames: try await environmentNames(spaceID: updated.spaceID)))))
    }

    func deleteAccount(_ input: Operations.DeleteAccount.Input) async throws -> Operations.DeleteAccount.Output {
        try await useCases.deleteAccount(input.path.account, space: input.path.space, by: try requester())
        return .noContent(.init())
    }

    func testAccount(_ input: Operations.TestAccount.Input) async throws -> Operations.TestAccount.Output {
        let requester = try requester()
        let task = try await useCases.testAccount(input.path.account, space: input.path.space, by: requester)
        return .accepted(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }
}
