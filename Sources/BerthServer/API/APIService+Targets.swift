import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

extension APIService {
    func listTargets(_ input: Operations.ListTargets.Input) async throws -> Operations.ListTargets.Output {
        let space = try await space(input.path.space)
        let listing = try await targetListing(
            spaceID: space.id,
            query: TargetListQuery(
                environment: input.query.environment, role: input.query.role, limit: input.query.limit,
                after: input.query.after))
        return .ok(.init(body: .json(.init(listing))))
    }

    /// The page that `listTargets` answers with, before it is encoded: shared by the generated
    /// handler (Codable) and `TargetListResponder` (`TargetListJSON`).
    func targetListing(spaceID: String, query: TargetListQuery) async throws -> TargetListing {
        let limit = try Paging.limit(query.limit, default: 100)
        var environmentID: String?
        if let reference = query.environment {
            environmentID = try await resolveEnvironments([reference], spaceID: spaceID, field: "environment").first?.id
        }
        return try await store.targetListing(
            spaceID: spaceID, environmentID: environmentID, role: query.role, limit: limit, after: query.after)
    }

    func getTarget(_ input: Operations.GetTarget.Input) async throws -> Operations.GetTarget.Output {
        let space = try await space(input.path.space)
        let target = try await store.target(input.path.target, spaceID: space.id)
        return .ok(.init(body: .json(.init(target, names: try await TargetNames.load(store: store, spaceID: space.id)))))
    }

    func createTarget(_ input: Operations.CreateTarget.Input) async throws -> Operations.CreateTarget.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the target as JSON.") }
        let space = try await space(input.path.space)
        let environments = try await resolveEnvironments(body.environments, spaceID: space.id, field: "environments")
        var account: Account?
        if let reference = body.account?.nonBlank {
            guard let found = try await store.findAccount(reference, spaceID: space.id) else {
                throw BerthError.invalid(
                    "ECS cluster target", [.init(field: "account", message: "there is no account '\(reference)'")])
            }
            account = found
        }
        let pool: WorkerPool
        if let reference = body.workerPool?.nonBlank {
            guard let found = try await store.findWorkerPool(reference, spaceID: space.id) else {
                throw BerthError.invalid(
                    "ECS cluster target", [.init(field: "workerPool", message: "there is no worker pool '\(reference)'")])
            }
            pool = found
        } else {
            pool = try await store.defaultWorkerPool(spaceID: space.id)
        }
        let assumeRole = body.assumeRole.map {
            AssumeRoleSettings(
                roleARN: $0.roleArn, sessionName: $0.sessionName?.nonBlank, sessionDuration: $0.sessionDuration,
                externalID: $0.externalId?.nonBlank)
        }
        let draft = TargetDraft(
            name: body.name, environments: environments, roles: body.roles, account: account,
            useWorkerCredentials: body.useWorkerCredentials ?? false, assumeRole: assumeRole, region: body.region,
            clusterName: body.clusterName)
        try draft.validate()
        let target = try await store.createTarget(
            ECSClusterTarget(
                spaceID: space.id, name: draft.name, environmentIDs: environments.map(\.id), roles: draft.roles,
                authentication: account.map { .account($0.id) } ?? .workerCredentials, assumeRole: assumeRole,
                region: draft.region, clusterName: draft.clusterName, workerPoolID: pool.id, createdAt: now()))
        return .created(.init(body: .json(.init(target, names: try await TargetNames.load(store: store, spaceID: space.id)))))
    }

    func updateTarget(_ input: Operations.UpdateTarget.Input) async throws -> Operations.UpdateTarget.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the change as JSON.") }
        let space = try await space(input.path.space)
        var target = try await store.target(input.path.target, spaceID: space.id)
        let environments = try await resolveEnvironments(
            body.environments ?? target.environmentIDs, spaceID: space.id, field: "environments")
        var account: Account?
        var useWorkerCredentials = false
        if body.useWorkerCredentials == true {
            useWorkerCredentials = true
            if body.account?.nonBlank != nil {
                throw BerthError.invalid(
                    "ECS cluster target",
                    [.init(field: "useWorkerCredentials", message: "cannot be combined with an account; choose one")])
            }
        } else if let reference = body.account?.nonBlank {
            guard let found = try await store.findAccount(reference, spaceID: space.id) else {
                throw BerthError.invalid(
                    "ECS cluster target", [.init(field: "account", message: "there is no account '\(reference)'")])
            }
            account = found
        } else {
            switch target.authentication {
            case .account(let id): account = try await store.account(id: id)
            // `false` without an account: the validation below asks for one.
            case .workerCredentials: useWorkerCredentials = body.useWorkerCredentials != false
            }
        }
        if let reference = body.workerPool?.nonBlank {
            guard let pool = try await store.findWorkerPool(reference, spaceID: space.id) else {
                throw BerthError.invalid(
                    "ECS cluster target", [.init(field: "workerPool", message: "there is no worker pool '\(reference)'")])
            }
            target.workerPoolID = pool.id
        }
        var assumeRole = target.assumeRole
        if body.removeAssumeRole == true { assumeRole = nil }
        if let change = body.assumeRole {
            assumeRole = AssumeRoleSettings(
                roleARN: change.roleArn, sessionName: change.sessionName?.nonBlank, sessionDuration: change.sessionDuration,
                externalID: change.externalId?.nonBlank)
        }
        let draft = TargetDraft(
            name: body.name ?? target.name, environments: environments, roles: body.roles ?? target.roles, account: account,
            useWorkerCredentials: useWorkerCredentials, assumeRole: assumeRole, region: body.region ?? target.region,
            clusterName: body.clusterName ?? target.clusterName)
        try draft.validate()
        let checksSomethingElse =
            draft.region != target.region || draft.clusterName != target.clusterName || assumeRole != target.assumeRole
            || (account.map { ECSClusterTarget.Authentication.account($0.id) } ?? .workerCredentials) != target.authentication
        target.name = draft.name
        target.environmentIDs = environments.map(\.id)
        target.roles = draft.roles
        target.authentication = account.map { .account($0.id) } ?? .workerCredentials
        target.assumeRole = assumeRole
        target.region = draft.region
        target.clusterName = draft.clusterName
        target.updatedAt = now()
        if checksSomethingElse { target.health = TargetHealth() }
        let updated = try await store.updateTarget(target)
        return .ok(.init(body: .json(.init(updated, names: try await TargetNames.load(store: store, spaceID: space.id)))))
    }

    func deleteTarget(_ input: Operations.DeleteTarget.Input) async throws -> Operations.DeleteTarget.Output {
        let space = try await space(input.path.space)
        let target = try await store.target(input.path.target, spaceID: space.id)
        try await store.deleteTarget(id: target.id)
        return .noContent(.init())
    }

    func checkTargetHealth(_ input: Operations.CheckTargetHealth.Input) async throws -> Operations.CheckTargetHealth.Output {
        let space = try await space(input.path.space)
        let target = try await store.target(input.path.target, spaceID: space.id)
        let tasks = try await engine.checkHealth(of: [target], queuedBy: try Access.caller().user.username)
        return .accepted(.init(body: .json(.init(tasks[0], spaceName: space.name))))
    }

    func checkAllTargetsHealth(_ input: Operations.CheckAllTargetsHealth.Input) async throws
        -> Operations.CheckAllTargetsHealth.Output
    {
        let space = try await space(input.path.space)
        let tasks = try await engine.checkHealth(
            of: try await store.allTargets(spaceID: space.id), queuedBy: try Access.caller().user.username)
        return .accepted(.init(body: .json(.init(items: tasks.map { .init($0, spaceName: space.name) }))))
    }
}

extension String {
    /// nil for an empty or blank string, so that `""` in a form means "not set".
    var nonBlank: String? {
        trimmingCharacters(in: .whitespaces).isEmpty ? nil : self
    }
}
