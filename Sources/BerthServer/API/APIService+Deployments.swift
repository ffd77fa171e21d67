import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listReleases(_ input: Operations.ListReleases.Input) async throws -> Operations.ListReleases.Output {
        let limit = try Paging.limit(input.query.limit, default: 100)
        let (project, releases) = try await useCases.listReleases(
            project: input.path.project, space: input.path.space, limit: limit + 1, after: input.query.after,
            by: try requester())
        let page = Array(releases.prefix(limit))
        var items: [Components.Schemas.Release] = []
        for release in page { items.append(try await releaseSchema(release, project: project)) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: releases.count > limit ? page.last?.id : nil))))
    }

    func getRelease(_ input: Operations.GetRelease.Input) async throws -> Operations.GetRelease.Output {
        let (project, release) = try await useCases.release(
            input.path.release, project: input.path.project, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(try await releaseSchema(release, project: project))))
    }

    func createRelease(_ input: Operations.CreateRelease.Input) async throws -> Operations.CreateRelease.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the release as JSON.") }
        let (project, release) = try await useCases.createRelease(
            version: body.version, images: body.images?.additionalProperties ?? [:], project: input.path.project,
            space: input.path.space, by: try requester())
        return .created(.init(body: .json(try await releaseSchema(release, project: project))))
    }

    /// A release as the API answers it, with where its project's lifecycle lets it go now.
    func releaseSchema(_ release: Release, project: Project) async throws -> Components.Schemas.Release {
        .init(release, project: project, mayGoTo: try await useCases.nextEnvironments(of: release, project: project).map(\.name))
    }

    func createDeployment(_ input: Operations.CreateDeployment.Input) async throws -> Operations.CreateDeployment.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the deployment as JSON.") }
        let queued = try await useCases.deploy(
            project: body.project, release: body.release, environment: body.environment, space: input.path.space,
            by: try requester())
        return .accepted(.init(body: .json(.init(queued))))
    }

    func redeployDeployment(_ input: Operations.RedeployDeployment.Input) async throws
        -> Operations.RedeployDeployment.Output
    {
        let queued = try await useCases.redeploy(input.path.deployment, space: input.path.space, by: try requester())
        return .accepted(.init(body: .json(.init(queued))))
    }

    func listDeployments(_ input: Operations.ListDeployments.Input) async throws -> Operations.ListDeployments.Output {
        let limit = try Paging.limit(input.query.limit, default: 50)
        var filter = BerthStore.DeploymentFilter(latestOnly: input.query.latest ?? false, limit: limit + 1)
        filter.after = input.query.after
        let (read, visible) = try await useCases.listDeployments(
            space: input.path.space, project: input.query.project, environment: input.query.environment, filter: filter,
            by: try requester())
        let page = Array(read.prefix(limit))
        let shown = Set(visible.map(\.deployment.id))
        return .ok(
            .init(
                body: .json(
                    .init(
                        // A page holds fewer items than `limit` when some are of projects the caller may not view.
                        items: page.filter { shown.contains($0.deployment.id) }.map(Components.Schemas.Deployment.init),
                        nextCursor: read.count > limit ? page.last?.deployment.id : nil))))
    }

    func getDeployment(_ input: Operations.GetDeployment.Input) async throws -> Operations.GetDeployment.Output {
        let details = try await useCases.deployment(input.path.deployment, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(.init(details))))
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        let task = try await useCases.cancelTask(input.path.task, by: try requester())
        let space = try await store.findSpace(task.spaceID)
        return .ok(.init(body: .json(.init(task, spaceName: space?.name))))
    }
}

extension Components.Schemas.Release {
    init(_ release: Release, project: Project, mayGoTo: [String]? = nil) {
        self.init(
            id: release.id, project: project.name, version: release.version,
            images: .init(additionalProperties: release.snapshot.images), steps: release.snapshot.steps.map(\.name),
            mayGoTo: mayGoTo, createdAt: release.createdAt)
    }
}

extension Components.Schemas.Deployment {
    init(_ details: UseCases.DeploymentDetails) {
        self.init(
            details.deployment, project: details.project, release: details.release, environment: details.environment,
            task: details.task)
    }

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

extension APIService {
    func verifyRelease(_ input: Operations.VerifyRelease.Input) async throws -> Operations.VerifyRelease.Output {
        guard case .json(let body) = input.body else { throw BerthError(.validationFailed, "The request needs a JSON body.") }
        let task = try await useCases.previewRelease(
            .releaseVerify, project: input.path.project, release: input.path.release, environment: body.environment,
            space: input.path.space, by: try requester())
        return .accepted(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }

    func diffRelease(_ input: Operations.DiffRelease.Input) async throws -> Operations.DiffRelease.Output {
        guard case .json(let body) = input.body else { throw BerthError(.validationFailed, "The request needs a JSON body.") }
        let task = try await useCases.previewRelease(
            .releaseDiff, project: input.path.project, release: input.path.release, environment: body.environment,
            space: input.path.space, by: try requester())
        return .accepted(.init(body: .json(.init(task, spaceName: try await store.findSpace(task.spaceID)?.name))))
    }
}
