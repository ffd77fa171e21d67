import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listLifecycles(_ input: Operations.ListLifecycles.Input) async throws -> Operations.ListLifecycles.Output {
        let lifecycles = try await useCases.listLifecycles(space: input.path.space, by: try requester())
        let names = try await environmentNames(spaceID: try await store.space(input.path.space).id)
        return .ok(.init(body: .json(.init(items: lifecycles.map { .init($0, environmentNames: names) }))))
    }

    func getLifecycle(_ input: Operations.GetLifecycle.Input) async throws -> Operations.GetLifecycle.Output {
        let lifecycle = try await useCases.lifecycle(input.path.lifecycle, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(lifecycle, environmentNames: try await environmentNames(spaceID: lifecycle.spaceID)))))
    }

    func createLifecycle(_ input: Operations.CreateLifecycle.Input) async throws -> Operations.CreateLifecycle.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the lifecycle as JSON.") }
        let lifecycle = try await useCases.createLifecycle(
            Self.lifecycleInput(body), space: input.path.space, by: try requester())
        return .created(
            .init(body: .json(.init(lifecycle, environmentNames: try await environmentNames(spaceID: lifecycle.spaceID)))))
    }

    func updateLifecycle(_ input: Operations.UpdateLifecycle.Input) async throws -> Operations.UpdateLifecycle.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the lifecycle as JSON.") }
        let lifecycle = try await useCases.updateLifecycle(
            input.path.lifecycle, Self.lifecycleInput(body), space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(lifecycle, environmentNames: try await environmentNames(spaceID: lifecycle.spaceID)))))
    }

    static func lifecycleInput(_ body: Components.Schemas.LifecycleInput) -> UseCases.LifecycleInput {
        UseCases.LifecycleInput(
            name: body.name, description: body.description ?? "",
            phases: body.phases.map {
                .init(
                    name: $0.name, environments: $0.environments, isOptional: $0.optional ?? false,
                    minimumEnvironments: $0.minimumEnvironments)
            })
    }
}

extension Components.Schemas.Lifecycle {
    init(_ lifecycle: Lifecycle, environmentNames: [String: String]) {
        self.init(
            id: lifecycle.id, name: lifecycle.name, slug: lifecycle.slug, description: lifecycle.description,
            phases: lifecycle.phases.map {
                .init(
                    name: $0.name, environments: $0.environmentIDs.map { environmentNames[$0] ?? $0 }, optional: $0.isOptional,
                    minimumEnvironments: $0.minimumEnvironments)
            }, createdAt: lifecycle.createdAt, updatedAt: lifecycle.updatedAt)
    }
}
