import BerthAPI
import BerthDomain
import BerthUseCases
import Foundation

/// API keys: one's own, and with ApiKeyManage everyone's.
extension APIService {
    func listApiKeys(_ input: Operations.ListApiKeys.Input) async throws -> Operations.ListApiKeys.Output {
        let page = try Paging.page(
            try await useCases.listAPIKeys(by: try requester()), limit: try Paging.limit(input.query.limit, default: 1000),
            after: input.query.after, id: \.id)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.ApiKey.init), nextCursor: page.nextCursor))))
    }

    func createApiKey(_ input: Operations.CreateApiKey.Input) async throws -> Operations.CreateApiKey.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the API key's name as JSON.") }
        let (key, stored) = try await useCases.createAPIKey(
            UseCases.APIKeyInput(
                name: body.name, user: body.user, expiresInDays: body.expiresInDays, role: body.role, space: body.space),
            by: try requester())
        return .created(.init(body: .json(.init(apiKey: .init(stored), key: key))))
    }

    func revokeApiKey(_ input: Operations.RevokeApiKey.Input) async throws -> Operations.RevokeApiKey.Output {
        try await useCases.revokeAPIKey(input.path.apiKey, by: try requester())
        return .noContent(.init())
    }
}
