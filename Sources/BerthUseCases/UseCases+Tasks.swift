import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// Tasks (deployments, health checks, account tests): seen by who may view their space.
extension UseCases {
    /// Tasks, newest first, leaving out those of spaces the requester may not view. - Returns:
    /// the page as read (for its cursor) and what of it the requester may see.
    public func listTasks(state: ServerTask.State?, limit: Int, after: String?, by requester: Requester) async throws
        -> (read: [ServerTask], visible: [ServerTask])
    {
        let read = try await store.listTasks(state: state, limit: limit, after: after)
        return (read, read.filter { requester.may(.spaceView, at: AccessScope(spaceID: $0.spaceID)) })
    }

    public func task(_ id: String, by requester: Requester) async throws -> ServerTask {
        guard let task = try await store.task(id: id) else { throw BerthError.notFound("task", id) }
        let space = try await store.findSpace(task.spaceID)
        try requester.require(
            .spaceView, at: AccessScope(spaceID: task.spaceID), for: "the space '\(space?.name ?? task.spaceID)'")
        return task
    }

    /// Cancels a queued task, or asks the node that runs it to stop it: needs TaskCancel where
    /// the task acts (a deployment's project and environment).
    public func cancelTask(_ id: String, by requester: Requester) async throws -> ServerTask {
        guard let queued = try await store.task(id: id) else { throw BerthError.notFound("task", id) }
        let deployment = try await store.deployment(taskID: queued.id)
        try requester.require(
            .taskCancel,
            at: AccessScope(spaceID: queued.spaceID, projectID: deployment?.projectID, environmentID: deployment?.environmentID),
            for: "the task \(queued.id)")
        _ = try await audited("cancelTask", record: "tasks/\(queued.id)", name: queued.description, by: requester) {
            try await engine.cancel(taskID: id)
        }
        guard let task = try await store.task(id: id) else { throw BerthError.notFound("task", id) }
        return task
    }
}
