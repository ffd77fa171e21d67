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
        let deployment = try await store.deploymentOrPreview(taskID: queued.id)
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

    /// Answers the manual intervention the task waits on: members of the step's teams may (without
    /// teams, whoever may deploy the project to the environment). The answer and its note are
    /// audited; a rejection fails the deployment.
    ///
    /// - Parameter question: the intervention's id; needed when the task waits on several at once
    ///   (an ECS PAUSE hook per target), so that nobody answers another question than the one read.
    public func answerIntervention(
        task id: String, _ answer: Intervention.Answer, note: String?, question: String? = nil, by requester: Requester
    ) async throws -> ServerTask {
        let task = try await task(id, by: requester)
        // Only a deployment still running waits: a cancelled or finished one takes no answer.
        let waiting =
            task.state == .executing && !task.cancelRequested ? try await store.pendingInterventions(taskID: task.id) : []
        guard !waiting.isEmpty else {
            throw BerthError(.conflict, "The task \(task.id) waits for no answer (\(task.state.phrase)).")
        }
        let pending: Intervention
        if let question {
            guard let named = waiting.first(where: { $0.id == question }) else {
                throw BerthError(
                    .conflict,
                    "The question \(question) of the task \(task.id) waits for no answer (answered, withdrawn or never asked); waiting: \(waiting.map(\.id).joined(separator: ", "))."
                )
            }
            pending = named
        } else if waiting.count == 1 {
            pending = waiting[0]
        } else {
            throw BerthError(
                .conflict,
                "The task \(task.id) waits on \(waiting.count) questions; name the one you answer (--question): "
                    + waiting.map { "\($0.id) (\($0.instructions))" }.joined(separator: "; "))
        }
        // Whoever answers may deploy the project there — a key narrowed below that may not, team or no team.
        let deployment = try await store.deployment(taskID: task.id)
        try requester.require(
            .deploymentCreate,
            at: AccessScope(spaceID: task.spaceID, projectID: deployment?.projectID, environmentID: deployment?.environmentID),
            for: "answering the step '\(pending.stepName)' of the task \(task.id)")
        if !pending.teams.isEmpty {
            let mine = Set(try await store.teamNames(userID: requester.user.id).map(Slug.make))
            guard pending.teams.contains(where: { mine.contains(Slug.make($0)) }), !requester.user.isDisabled else {
                throw BerthError(
                    .forbidden,
                    "The user '\(requester.user.username)' may not answer the step '\(pending.stepName)': only members of \(pending.teams.map { "'\($0)'" }.joined(separator: ", ")) may."
                )
            }
        }
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines).nonBlank
        if let note, note.count > 2000 {
            throw BerthError.invalid("answer", [.init(field: "note", message: "is longer than 2000 characters")])
        }
        var details: [(String, JSONValue)] = [("step", .string(pending.stepName)), ("question", .string(pending.id))]
        if !pending.subject.isEmpty { details.append(("about", .string(pending.instructions))) }
        if let note { details.append(("note", .string(note))) }
        let recorded = try await audited(
            answer == .approved ? "approveTask" : "rejectTask", record: "tasks/\(task.id)", name: task.description,
            details: details, by: requester
        ) {
            try await store.answerIntervention(id: pending.id, answer, by: requester.user.username, note: note, at: now())
        }
        guard recorded else {
            throw BerthError(.conflict, "The step '\(pending.stepName)' of the task \(task.id) was answered already.")
        }
        return try await self.task(task.id, by: requester)
    }
}
