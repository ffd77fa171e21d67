import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listTargets(_ input: Operations.ListTargets.Input) async throws -> Operations.ListTargets.Output {
        let space = try await useCases.space(input.path.space, needing: .spaceView, by: try requester())
        let listing = try await targetListing(
            spaceID: space.id,
            query: TargetListQuery(
                environment: input.query.environment, role: input.query.role, limit: input.query.limit,
                after: input.query.after))
        return .ok(.init(body: .json(.init(listing))))
    }

    /// The page that `listTargets` answers with, before it is encoded: shared by the generated
    /// handler (Codable) and `TargetListResponder` (`TargetListJSON`), behind the access check of
    /// `AuthorizationMiddleware` (SpaceView: the fast path reads no caller).
    func targetListing(spaceID: String, query: TargetListQuery) async throws -> TargetListing {
        let limit = try Paging.limit(query.limit, default: 100)
        var environmentID: String?
        if let reference = query.environment {
            environmentID = try await useCases.resolveEnvironments([reference], spaceID: spaceID, field: "environment").first?.id
        }
        return try await store.targetListing(
            spaceID: spaceID, environmentID: environmentID, role: query.role, limit: limit, after: query.after)
    }

    func getTarget(_ input: Operations.GetTarget.Input) async throws -> Operations.GetTarget.Output {
        let target = try await useCases.target(input.path.target, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(target, names: try await TargetNames.load(store: store, spaceID: target.spaceID)))))
    }

    func createTarget(_ input: Operations.CreateTarget.Input) async throws -> Operations.CreateTarget.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the target as JSON.") }
        let target = try await useCases.createTarget(
            UseCases.TargetInput(
                name: body.name, environments: body.environments, roles: body.roles, account: body.account,
                useWorkerCredentials: body.useWorkerCredentials ?? false, assumeRole: body.assumeRole.map(Self.assumeRole),
                region: body.region, clusterName: body.clusterName, workerPool: body.workerPool),
            space: input.path.space, by: try requester())
        return .created(
            .init(body: .json(.init(target, names: try await TargetNames.load(store: store, spaceID: target.spaceID)))))
    }

    func updateTarget(_ input: Operations.UpdateTarget.Input) async throws -> Operations.UpdateTarget.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        var change = UseCases.TargetChange()
        change.name = body.name
        change.environments = body.environments
        change.roles = body.roles
        change.account = body.account
        change.useWorkerCredentials = body.useWorkerCredentials
        change.assumeRole = body.assumeRole.map(Self.assumeRole)
        change.removeAssumeRole = body.removeAssumeRole == true
        change.region = body.region
        change.clusterName = body.clusterName
        change.workerPool = body.workerPool
        let updated = try await useCases.updateTarget(input.path.target, change, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(updated, names: try await TargetNames.load(store: store, spaceID: updated.spaceID)))))
    }

    func deleteTarget(_ input: Operations.DeleteTarget.Input) async throws -> Operations.DeleteTarget.Output {
        try await useCases.deleteTarget(input.path.target, space: input.path.space, by: try requester())
        return .noContent(.init())
    }

    func checkTargetHealth(_ input: Operations.CheckTargetHealth.Input) async throws -> Operations.CheckTargetHealth.Output {
        let task = try await useCases.checkTargetHealth(input.path.target, space: input.path.space, by: try requester())
        return .accepted(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }

    func checkAllTargetsHealth(_ input: Operations.CheckAllTargetsHealth.Input) async throws
        -> Operations.CheckAllTargetsHealth.Output
    {
        let space = try await store.space(input.path.space)
        let tasks = try await useCases.checkAllTargetsHealth(space: input.path.space, by: try requester())
        return .accepted(.init(body: .json(.init(items: tasks.map { .init($0, spaceName: space.name) }))))
    }

    static func assumeRole(_ settings: Components.Schemas.AssumeRole) -> AssumeRoleSettings {
        AssumeRoleSettings(
            roleARN: settings.roleArn, sessionName: settings.sessionName?.nonBlank, sessionDuration: settings.sessionDuration,
            externalID: settings.externalId?.nonBlank)
    }
}
