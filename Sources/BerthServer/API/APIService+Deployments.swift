import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

extension APIService {
    func listReleases(_ input: Operations.ListReleases.Input) async throws -> Operations.ListReleases.Output {
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.projectView, project)
        let limit = try Paging.limit(input.query.limit, default: 100)
        let releases = try await store.releases(projectID: project.id, limit: limit + 1, after: input.query.after)
        let page = Array(releases.prefix(limit))
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.map { .init($0, project: project) },
                        nextCursor: releases.count > limit ? page.last?.id : nil))))
    }

    func getRelease(_ input: Operations.GetRelease.Input) async throws -> Operations.GetRelease.Output {
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.projectView, project)
        let release = try await store.release(input.path.release, projectID: project.id)
        return .ok(.init(body: .json(.init(release, project: project))))
    }

    func createRelease(_ input: Operations.CreateRelease.Input) async throws -> Operations.CreateRelease.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the release as JSON.") }
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.releaseCreate, project)
        var errors = ValidationErrors()
        Release.validateVersion(body.version, into: &errors)
        try errors.throwIfAny("release")
        let snapshot = try ReleaseSnapshot.freeze(
            project: project, variables: try await store.variables(projectID: project.id),
            chosen: body.images?.additionalProperties ?? [:])
        let release = try await store.createRelease(
            Release(spaceID: space.id, projectID: project.id, version: body.version, snapshot: snapshot, createdAt: now()))
        return .created(.init(body: .json(.init(release, project: project))))
    }

    func createDeployment(_ input: Operations.CreateDeployment.Input) async throws -> Operations.CreateDeployment.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the deployment as JSON.") }
        let space = try await space(input.path.space)
        let project = try await store.project(body.project, spaceID: space.id)
        let release = try await store.release(body.release, projectID: project.id)
        guard let environment = try await store.findEnvironment(body.environment, spaceID: space.id) else {
            throw BerthError.invalid(
                "deployment", [.init(field: "environment", message: "there is no environment '\(body.environment)'")])
        }
        try Access.require(
            .deploymentCreate, at: AccessScope(spaceID: space.id, projectID: project.id, environmentID: environment.id),
            for: "\(environment.name) (project '\(project.name)')")
        let (deployment, task) = try await engine.deploy(
            project: project, release: release, environment: environment, queuedBy: try Access.caller().user.username)
        return .accepted(
            .init(body: .json(.init(deployment, project: project, release: release, environment: environment, task: task))))
    }

    func listDeployments(_ input: Operations.ListDeployments.Input) async throws -> Operations.ListDeployments.Output {
        let space = try await space(input.path.space)
        let limit = try Paging.limit(input.query.limit, default: 50)
        var filter = BerthStore.DeploymentFilter(latestOnly: input.query.latest ?? false, limit: limit + 1)
        filter.after = input.query.after
        if let reference = input.query.project {
            filter.projectID = try await store.project(reference, spaceID: space.id).id
        }
        if let reference = input.query.environment {
            guard let environment = try await store.findEnvironment(reference, spaceID: space.id) else {
                throw BerthError.notFound("environment", reference)
            }
            filter.environmentID = environment.id
        }
        let deployments = try await store.deployments(spaceID: space.id, filter)
        let page = Array(deployments.prefix(limit))
        return .ok(
            .init(
                body: .json(
                    .init(
                        // A page holds fewer items than `limit` when some are of projects the caller may not view.
                        items: page.filter { Self.may(.projectView, spaceID: space.id, projectID: $0.deployment.projectID) }
                            .map(Components.Schemas.Deployment.init),
                        nextCursor: deployments.count > limit ? page.last?.deployment.id : nil))))
    }

    func getDeployment(_ input: Operations.GetDeployment.Input) async throws -> Operations.GetDeployment.Output {
        let space = try await space(input.path.space)
        guard let deployment = try await store.deployment(id: input.path.deployment), deployment.spaceID == space.id,
            let task = try await store.task(id: deployment.taskID),
            let project = try await store.project(id: deployment.projectID),
            let release = try await store.release(id: deployment.releaseID),
            let environment = try await store.findEnvironment(deployment.environmentID, spaceID: space.id)
        else { throw BerthError.notFound("deployment", input.path.deployment) }
        try Self.require(.projectView, project)
        return .ok(
            .init(body: .json(.init(deployment, project: project, release: release, environment: environment, task: task))))
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        guard let queued = try await store.task(id: input.path.task) else { throw BerthError.notFound("task", input.path.task) }
        let deployment = try await store.deployment(taskID: queued.id)
        try Access.require(
            .taskCancel,
            at: AccessScope(spaceID: queued.spaceID, projectID: deployment?.projectID, environmentID: deployment?.environmentID),
            for: "the task \(queued.id)")
        try await engine.cancel(taskID: input.path.task)
        guard let task = try await store.task(id: input.path.task) else { throw BerthError.notFound("task", input.path.task) }
        let space = try await store.findSpace(task.spaceID)
        return .ok(.init(body: .json(.init(task, spaceName: space?.name))))
    }
}

extension Components.Schemas.Release {
    init(_ release: Release, project: Project) {
        self.init(
            id: release.id, project: project.name, version: release.version,
            images: .init(additionalProperties: release.snapshot.images), steps: release.snapshot.steps.map(\.name),
            createdAt: release.createdAt)
    }
}

extension Components.Schemas.Deployment {
    init(_ deployment: Deployment, project: Project, release: Release, environment: Environment, task: ServerTask) {
        self.init(
            id: deployment.id, project: project.name, release: release.version, environment: environment.name,
            taskId: task.id, state: .init(task.state), errorMessage: task.errorMessage, createdAt: deployment.createdAt,
            completedAt: task.completedAt, deployedBy: task.queuedBy)
    }

    init(_ summary: DeploymentSummary) {
        self.init(
            id: summary.deployment.id, project: summary.projectName, release: summary.releaseVersion,
            environment: summary.environmentName, taskId: summary.deployment.taskID, state: .init(summary.state),
            errorMessage: summary.errorMessage, createdAt: summary.deployment.createdAt, completedAt: summary.completedAt,
            deployedBy: summary.deployedBy)
    }
}
