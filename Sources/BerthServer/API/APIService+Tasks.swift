import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

extension APIService {
    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let limit = try Paging.limit(input.query.limit, default: 50)
        let tasks = try await store.listTasks(
            state: input.query.state.map(ServerTask.State.init), limit: limit + 1, after: input.query.after)
        let page = Array(tasks.prefix(limit))
        let spaces = Dictionary(uniqueKeysWithValues: try await store.listSpaces().map { ($0.id, $0.name) })
        return .ok(
            .init(
                body: .json(
                    .init(
                        // A page holds fewer items than `limit` when some are of spaces the caller may not view.
                        items: page.filter { Access.mayView(spaceID: $0.spaceID) }.map {
                            .init($0, spaceName: spaces[$0.spaceID])
                        },
                        nextCursor: tasks.count > limit ? page.last?.id : nil))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        guard let task = try await store.task(id: input.path.task) else { throw BerthError.notFound("task", input.path.task) }
        let space = try await store.findSpace(task.spaceID)
        try Access.require(.spaceView, at: AccessScope(spaceID: task.spaceID), for: "the space '\(space?.name ?? task.spaceID)'")
        return .ok(.init(body: .json(.init(task, spaceName: space?.name))))
    }

    func getTaskLog(_ input: Operations.GetTaskLog.Input) async throws -> Operations.GetTaskLog.Output {
        guard let task = try await store.task(id: input.path.task) else { throw BerthError.notFound("task", input.path.task) }
        try Access.require(.spaceView, at: AccessScope(spaceID: task.spaceID), for: "the space of the task \(task.id)")
        if let after = input.query.after, after < 0 {
            throw BerthError.invalid("request", [.init(field: "after", message: "must be 0 or more")])
        }
        let limit = try Paging.limit(input.query.limit, default: 1000, maximum: 10000)
        let page = try await store.taskLog(taskID: task.id, after: input.query.after ?? 0, limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        taskId: task.id, state: .init(task.state), lines: page.lines.map(Components.Schemas.TaskLogLine.init),
                        hasMore: page.hasMore))))
    }

    func listApiKeys(_ input: Operations.ListApiKeys.Input) async throws -> Operations.ListApiKeys.Output {
        // One's own keys; every key with ApiKeyManage.
        let caller = try Access.caller()
        let managesKeys = caller.may(.apiKeyManage, at: .server)
        let page = try Paging.page(
            try await store.listAPIKeys().filter { managesKeys || $0.userID == caller.user.id },
            limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        return .ok(.init(body: .json(.init(items: page.items.map(Components.Schemas.ApiKey.init), nextCursor: page.nextCursor))))
    }

    func createApiKey(_ input: Operations.CreateApiKey.Input) async throws -> Operations.CreateApiKey.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the API key's name as JSON.") }
        var errors = ValidationErrors()
        NameRules.validate(body.name, into: &errors)
        try errors.throwIfAny("API key")
        // A key of the caller's own, carrying their rights; of another user with ApiKeyManage.
        var (key, record) = APIKeyFactory.make(name: body.name, at: now())
        let caller = try Access.caller()
        // A narrowed key would otherwise make a key without its narrowing.
        guard caller.keyLimit == nil else {
            throw BerthError(
                .forbidden,
                "The key '\(caller.keyName)' is narrowed to a role: it cannot make keys (make them with a key that is not).")
        }
        record.userID = caller.user.id
        if let reference = body.user, reference != caller.user.id, reference != caller.user.username {
            try Access.require(.apiKeyManage, at: .server, caller: caller, for: "another user's keys")
            let owner = try await store.user(reference)
            try await requireCovers(caller, owner, "make a key")
            record.userID = owner.id
        }
        if let days = body.expiresInDays { record.expiresAt = now().addingTimeInterval(Double(days) * 86_400) }
        if let reference = body.role?.nonBlank {
            let roles = Role.builtIn + (try await store.listRoles())
            guard let role = roles.first(where: { $0.id == reference || Slug.make($0.name) == Slug.make(reference) }) else {
                throw BerthError.invalid(
                    "API key",
                    [
                        .init(
                            field: "role",
                            message: "there is no role '\(reference)' (known: \(roles.map(\.name).joined(separator: ", ")))")
                    ])
            }
            record.limitRoleID = role.id
            if let space = body.space?.nonBlank { record.limitSpaceID = try await store.space(space).id }
        } else if body.space != nil {
            throw BerthError.invalid("API key", [.init(field: "space", message: "a space narrows a role: name the role too")])
        }
        let stored = try await store.createAPIKey(record)
        return .created(.init(body: .json(.init(apiKey: .init(stored), key: key))))
    }

    func revokeApiKey(_ input: Operations.RevokeApiKey.Input) async throws -> Operations.RevokeApiKey.Output {
        let caller = try Access.caller()
        let reference = input.path.apiKey
        if let key = try await store.listAPIKeys().first(where: {
            $0.revokedAt == nil && ($0.id == reference || $0.name == reference)
        }), key.userID != caller.user.id {
            try Access.require(.apiKeyManage, at: .server, caller: caller, for: "another user's key")
        }
        let revoked = try await store.revokeAPIKey(reference, at: now())
        await apiKeys.forget(hash: revoked.hash)
        return .noContent(.init())
    }
}
