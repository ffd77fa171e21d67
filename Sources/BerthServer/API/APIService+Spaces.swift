import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listSpaces(_ input: Operations.ListSpaces.Input) async throws -> Operations.ListSpaces.Output {
        let page = try Paging.page(
            try await useCases.listSpaces(by: try requester()), limit: try Paging.limit(input.query.limit, default: 1000),
            after: input.query.after, id: \.id)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Space.init), nextCursor: page.nextCursor))))
    }

    func createSpace(_ input: Operations.CreateSpace.Input) async throws -> Operations.CreateSpace.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the space as JSON.") }
        let space = try await useCases.createSpace(name: body.name, by: try requester())
        return .created(.init(body: .json(.init(space))))
    }

    func listWorkerPools(_ input: Operations.ListWorkerPools.Input) async throws -> Operations.ListWorkerPools.Output {
        let page = try Paging.page(
            try await useCases.listWorkerPools(space: input.path.space, by: try requester()),
            limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        return .ok(
            .init(body: .json(.init(items: page.items.map(Components.Schemas.WorkerPool.init), nextCursor: page.nextCursor))))
    }

    func createWorkerPool(_ input: Operations.CreateWorkerPool.Input) async throws -> Operations.CreateWorkerPool.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the worker pool as JSON.") }
        let pool = try await useCases.createWorkerPool(name: body.name, space: input.path.space, by: try requester())
        return .created(.init(body: .json(.init(pool))))
    }

    func deleteWorkerPool(_ input: Operations.DeleteWorkerPool.Input) async throws -> Operations.DeleteWorkerPool.Output {
        try await useCases.deleteWorkerPool(input.path.pool, space: input.path.space, by: try requester())
        return .noContent(.init())
    }
}
