import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// Tasks: the list, and a task's page with its log (live through the API's event stream).
extension WebUI {
    func tasksPage(_ visit: Visit) async throws -> Response {
        let state = visit.query("state").flatMap(ServerTask.State.init(rawValue:))
        let tasks = try await useCases.listTasks(state: state, limit: 200, after: nil, by: visit.requester).visible
        let spaces = Dictionary(uniqueKeysWithValues: try await useCases.store.listSpaces().map { ($0.id, $0.name) })
        return try render(
            "tasks",
            [
                "tasks": tasks.map { task in
                    [
                        "url": "/tasks/\(task.id)", "description": task.description, "state": task.state.phrase,
                        "stateClass": task.state.rawValue, "space": spaces[task.spaceID] ?? task.spaceID,
                        "queuedBy": task.queuedBy ?? "schedule", "created": Self.time(task.createdAt),
                    ] as [String: Any]
                },
                "states": ServerTask.State.allCases.map { ["value": $0.rawValue, "selected": $0 == state] as [String: Any] },
                "empty": tasks.isEmpty,
            ], title: "Tasks", visit: visit)
    }

    func taskPage(_ visit: Visit) async throws -> Response {
        let requester = visit.requester
        let task = try await useCases.task(try visit.parameter("task"), by: requester)
        let deployment = try await useCases.store.deploymentOrPreview(taskID: task.id)
        var values: [String: Any] = [
            "id": task.id, "description": task.description, "state": task.state.phrase, "stateClass": task.state.rawValue,
            "finished": task.state.isFinished, "queuedBy": task.queuedBy ?? "the schedule", "created": Self.time(task.createdAt),
            "completed": Self.time(task.completedAt), "error": task.errorMessage ?? "", "csrf": visit.csrf,
        ]
        if let deployment, let project = try await useCases.store.project(id: deployment.projectID),
            let release = try await useCases.store.release(id: deployment.releaseID),
            let space = try await useCases.store.findSpace(deployment.spaceID)
        {
            let environment = try await useCases.store.findEnvironment(deployment.environmentID, spaceID: space.id)
            values["deployment"] = [
                "project": project.name,
                "projectURL": "/spaces/\(Self.segment(space.slug))/projects/\(Self.segment(project.slug))",
                "release": release.version, "environment": environment?.name ?? deployment.environmentID,
            ]
        }
        let mayCancel = requester.may(
            .taskCancel,
            at: AccessScope(spaceID: task.spaceID, projectID: deployment?.projectID, environmentID: deployment?.environmentID))
        values["mayCancel"] = mayCancel && !task.state.isFinished
        if !task.state.isFinished, let pending = try await useCases.store.pendingIntervention(taskID: task.id) {
            values["intervention"] = [
                "question": pending.id, "step": pending.stepName, "instructions": pending.instructions,
                "teams": pending.teams.isEmpty ? "who may deploy here" : pending.teams.joined(separator: ", "),
            ]
        }
        // The log, in its sections (a deployment's step on a target), each foldable.
        let log = try await useCases.store.taskLog(taskID: task.id, after: 0, limit: 10_000)
        var sections: [(title: String, lines: [[String: Any]])] = []
        var sectionLines: [String: [TaskLogLine]] = [:]
        var sectionOrder: [String] = []
        for line in log.lines {
            let title = line.section ?? ""
            if sections.last?.title != title { sections.append((title, [])) }
            sections[sections.count - 1].lines.append([
                "sequence": line.sequence, "time": Self.time(line.time), "level": line.level.rawValue, "message": line.message,
            ])
            if sectionLines[title] == nil { sectionOrder.append(title) }
            sectionLines[title, default: []].append(line)
        }
        // A rollout chart per service step and target; redrawn while the task runs.
        values["charts"] = sectionOrder.enumerated().compactMap { index, title -> [String: Any]? in
            guard let chart = RolloutChart(lines: sectionLines[title] ?? []) else { return nil }
            return ["id": "chart-\(index)", "title": title, "svg": chart.svg]
        }
        values["sections"] = sections.map { ["title": $0.title.isEmpty ? "Task" : $0.title, "lines": $0.lines] as [String: Any] }
        values["after"] = log.lines.last?.sequence ?? 0
        values["more"] = log.hasMore
        return try render("task", values, title: task.description, visit: visit)
    }

    func answerIntervention(_ visit: Visit, _ form: WebForm, _ answer: Intervention.Answer) async throws -> Response {
        let task = try await useCases.answerIntervention(
            task: try visit.parameter("task"), answer, note: form["note"], question: form["question"], by: visit.requester)
        return Self.redirect("/tasks/\(task.id)")
    }

    func cancelTask(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let task = try await useCases.cancelTask(try visit.parameter("task"), by: visit.requester)
        return Self.redirect("/tasks/\(task.id)")
    }
}
