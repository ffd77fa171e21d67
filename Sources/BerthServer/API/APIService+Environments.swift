import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

extension APIService {
    func listEnvironments(_ input: Operations.ListEnvironments.Input) async throws -> Operations.ListEnvironments.Output {
        let space = try await space(input.path.space)
        let page = try Paging.page(
            try await store.listEnvironments(spaceID: space.id),
            limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        return .ok(
            .init(body: .json(.init(items: page.items.map(Components.Schemas.Environment.init), nextCursor: page.nextCursor))))
    }

    func createEnvironment(_ input: Operations.CreateEnvironment.Input) async throws -> Operations.CreateEnvironment.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the environment as JSON.") }
        let space = try await space(input.path.space)
        var errors = ValidationErrors()
        NameRules.validate(body.name, into: &errors)
        if let sortOrder = body.sortOrder, sortOrder < 0 { errors.add("sortOrder", "must be 0 or more") }
        try errors.throwIfAny("environment")
        let environment = try await store.createEnvironment(
            Environment(spaceID: space.id, name: body.name, sortOrder: 0, createdAt: now()), position: body.sortOrder)
        return .created(.init(body: .json(.init(environment))))
    }

    func getEnvironment(_ input: Operations.GetEnvironment.Input) async throws -> Operations.GetEnvironment.Output {
        let space = try await space(input.path.space)
        let environment = try await store.environment(input.path.environment, spaceID: space.id)
        return .ok(.init(body: .json(.init(environment))))
    }

    func updateEnvironment(_ input: Operations.UpdateEnvironment.Input) async throws -> Operations.UpdateEnvironment.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        let space = try await space(input.path.space)
        let environment = try await store.environment(input.path.environment, spaceID: space.id)
        var errors = ValidationErrors()
        if let name = body.name { NameRules.validate(name, into: &errors) }
        if let sortOrder = body.sortOrder, sortOrder < 0 { errors.add("sortOrder", "must be 0 or more") }
        if body.name == nil && body.sortOrder == nil { errors.add("body", "give a new name, a new sortOrder, or both") }
        try errors.throwIfAny("environment change")
        let updated = try await store.updateEnvironment(
            id: environment.id, spaceID: space.id, name: body.name, position: body.sortOrder)
        return .ok(.init(body: .json(.init(updated))))
    }

    func deleteEnvironment(_ input: Operations.DeleteEnvironment.Input) async throws -> Operations.DeleteEnvironment.Output {
        let space = try await space(input.path.space)
        let environment = try await store.environment(input.path.environment, spaceID: space.id)
        try await store.deleteEnvironment(id: environment.id, spaceID: space.id)
        return .noContent(.init())
    }
}
