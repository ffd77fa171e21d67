import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listEnvironments(_ input: Operations.ListEnvironments.Input) async throws -> Operations.ListEnvironments.Output {
        let page = try Paging.page(
            try await useCases.listEnvironments(space: input.path.space, by: try requester()),
            limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        return .ok(
            .init(body: .json(.init(items: page.items.map(Components.Schemas.Environment.init), nextCursor: page.nextCursor))))
    }

    func createEnvironment(_ input: Operations.CreateEnvironment.Input) async throws -> Operations.CreateEnvironment.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the environment as JSON.") }
        let environment = try await useCases.createEnvironment(
            name: body.name, sortOrder: body.sortOrder, space: input.path.space, by: try requester())
        return .created(.init(body: .json(.init(environment))))
    }

    func getEnvironment(_ input: Operations.GetEnvironment.Input) async throws -> Operations.GetEnvironment.Output {
        let environment = try await useCases.environment(input.path.environment, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(environment))))
    }

    func updateEnvironment(_ input: Operations.UpdateEnvironment.Input) async throws -> Operations.UpdateEnvironment.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        let updated = try await useCases.updateEnvironment(
            input.path.environment, name: body.name, sortOrder: body.sortOrder, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(updated))))
    }

    func deleteEnvironment(_ input: Operations.DeleteEnvironment.Input) async throws -> Operations.DeleteEnvironment.Output {
        try await useCases.deleteEnvironment(input.path.environment, space: input.path.space, by: try requester())
        return .noContent(.init())
    }
}
