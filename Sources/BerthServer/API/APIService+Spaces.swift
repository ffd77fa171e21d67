import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

extension APIService {
    func listSpaces(_ input: Operations.ListSpaces.Input) async throws -> Operations.ListSpaces.Output {
        let page = try Paging.page(
            try await store.listSpaces().filter { Access.mayView(spaceID: $0.id) },
            limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.Space.init), nextCursor: page.nextCursor))))
    }

    func createSpace(_ input: Operations.CreateSpace.Input) async throws -> Operations.CreateSpace.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the space as JSON.") }
        var errors = ValidationErrors()
        NameRules.validate(body.name, into: &errors)
        try errors.throwIfAny("space")
        let space = try await store.createSpace(Space(name: body.name, createdAt: now()))
        return .created(.init(body: .json(.init(space))))
    }

    func listWorkerPools(_ input: Operations.ListWorkerPools.Input) async throws -> Operations.ListWorkerPools.Output {
        let space = try await space(input.path.space)
        let page = try Paging.page(
            try await store.listWorkerPools(spaceID: space.id), limit: try Paging.limit(input.query.limit, default: 1000),
            after: input.query.after, id: \.id)
        return .ok(
            .init(body: .json(.init(items: page.items.map(Components.Schemas.WorkerPool.init), nextCursor: page.nextCursor))))
    }

    func createWorkerPool(_ input: Operations.CreateWorkerPool.Input) async throws -> Operations.CreateWorkerPool.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the worker pool as JSON.") }
        let space = try await space(input.path.space)
        var errors = ValidationErrors()
        NameRules.validate(body.name, into: &errors)
        try errors.throwIfAny("worker pool")
        let pool = try await store.createWorkerPool(
            WorkerPool(spaceID: space.id, name: body.name, isDefault: false, createdAt: now()))
        return .created(.init(body: .json(.init(pool))))
    }

    func deleteWorkerPool(_ input: Operations.DeleteWorkerPool.Input) async throws -> Operations.DeleteWorkerPool.Output {
        let space = try await space(input.path.space)
        guard let pool = try await store.findWorkerPool(input.path.pool, spaceID: space.id) else {
            throw BerthError.notFound("worker pool", input.path.pool)
        }
        try await store.deleteWorkerPool(id: pool.id)
        return .noContent(.init())
    }
}
