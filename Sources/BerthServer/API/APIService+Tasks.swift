import BerthAPI
import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import OpenAPIRuntime

extension APIService {
    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let limit = try Paging.limit(input.query.limit, default: 50)
        let (read, visible) = try await useCases.listTasks(
            state: input.query.state.map(ServerTask.State.init), limit: limit + 1, after: input.query.after,
            by: try requester())
        let page = Array(read.prefix(limit))
        let shown = Set(visible.map(\.id))
        let spaces = Dictionary(uniqueKeysWithValues: try await store.listSpaces().map { ($0.id, $0.name) })
        return .ok(
            .init(
                body: .json(
                    .init(
                        // A page holds fewer items than `limit` when some are of spaces the caller may not view.
                        items: page.filter { shown.contains($0.id) }.map { .init($0, spaceName: spaces[$0.spaceID]) },
                        nextCursor: read.count > limit ? page.last?.id : nil))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        let task = try await useCases.task(input.path.task, by: try requester())
        return .ok(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }

    func getTaskLog(_ input: Operations.GetTaskLog.Input) async throws -> Operations.GetTaskLog.Output {
        let task = try await useCases.task(input.path.task, by: try requester())
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
}

extension APIService {
    func streamTaskLog(_ input: Operations.StreamTaskLog.Input) async throws -> Operations.StreamTaskLog.Output {
        let task = try await useCases.task(input.path.task, by: try requester())
        if let after = input.query.after, after < 0 {
            throw BerthError.invalid("request", [.init(field: "after", message: "must be 0 or more")])
        }
        // A reconnecting EventSource says where it was.
        let resumed = input.headers.lastEventID.flatMap { Int($0) }.map { max($0, 0) }
        let events = TaskLogEvents(store: store, taskID: task.id, after: resumed ?? input.query.after ?? 0)
        return .ok(.init(body: .textEventStream(HTTPBody(events, length: .unknown, iterationBehavior: .single))))
    }
}

extension APIService {
    func approveTask(_ input: Operations.ApproveTask.Input) async throws -> Operations.ApproveTask.Output {
        var (note, question): (String?, String?) = (nil, nil)
        if case .json(let body)? = input.body { (note, question) = (body.note, body.question) }
        let task = try await useCases.answerIntervention(
            task: input.path.task, .approved, note: note, question: question, by: try requester())
        return .ok(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }

    func rejectTask(_ input: Operations.RejectTask.Input) async throws -> Operations.RejectTask.Output {
        var (note, question): (String?, String?) = (nil, nil)
        if case .json(let body)? = input.body { (note, question) = (body.note, body.question) }
        let task = try await useCases.answerIntervention(
            task: input.path.task, .rejected, note: note, question: question, by: try requester())
        return .ok(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }
}
