import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// Releases (a frozen process, variables and images) and deployments of them.
extension UseCases {
    public func listReleases(
        project reference: String, space spaceReference: String, limit: Int, after: String?, by requester: Requester
    ) async throws -> (project: Project, releases: [Release]) {
        let project = try await project(reference, space: spaceReference, by: requester)
        return (project, try await store.releases(projectID: project.id, limit: limit, after: after))
    }

    public func release(
        _ reference: String, project projectReference: String, space spaceReference: String, by requester: Requester
    ) async throws -> (project: Project, release: Release) {
        let project = try await project(projectReference, space: spaceReference, by: requester)
        return (project, try await store.release(reference, projectID: project.id))
    }

    /// Freezes the project's process and variables into release `version`, with `images` chosen
    /// per step and container (`step/container` or `container`).
    public func createRelease(
        version: String, images: [String: String], project reference: String, space spaceReference: String,
        by requester: Requester
    ) async throws -> (project: Project, release: Release) {
        let project = try await project(reference, space: spaceReference, needing: .releaseCreate, by: requester)
        var errors = ValidationErrors()
        Release.validateVersion(version, into: &errors)
        try errors.throwIfAny("release")
        let snapshot = try ReleaseSnapshot.freeze(
            project: project, variables: try await store.variables(projectID: project.id), chosen: images)
        let release = Release(
            spaceID: project.spaceID, projectID: project.id, version: version, snapshot: snapshot, createdAt: now())
        let created = try await audited("createRelease", before: nil, after: release, by: requester) {
            try await store.createRelease(release)
        }
        return (project, created)
    }

    /// What a deployment is about, for answers.
    public struct DeploymentDetails: Sendable {
        public var deployment: Deployment
        public var project: Project
        public var release: Release
        public var environment: Environment
        public var task: ServerTask
    }

    /// The release name that means "the last release that succeeded here before the one deployed
    /// here last": what to deploy to go back.
    public static let previousRelease = "previous"

    /// Queues a deployment of the project's release to the environment: needs DeploymentCreate
    /// for that project in that environment. `release` may be ``previousRelease``: it is resolved
    /// here, and the task's description says so.
    public func deploy(
        project projectReference: String, release releaseReference: String, environment environmentReference: String,
        space spaceReference: String, by requester: Requester
    ) async throws -> DeploymentDetails {
        let space = try await space(spaceReference, needing: .deploymentCreate, by: requester)
        let project = try await store.project(projectReference, spaceID: space.id)
        guard let environment = try await store.findEnvironment(environmentReference, spaceID: space.id) else {
            throw BerthError.invalid(
                "deployment", [.init(field: "environment", message: "there is no environment '\(environmentReference)'")])
        }
        try requester.require(
            .deploymentCreate, at: AccessScope(spaceID: space.id, projectID: project.id, environmentID: environment.id),
            for: "\(environment.name) (project '\(project.name)')")
        if releaseReference.lowercased() == Self.previousRelease {
            let (release, replaced) = try await previousRelease(of: project, in: environment)
            return try await queue(
                project: project, release: release, environment: environment, action: "createDeployment",
                note: "back to \(release.version), the last release that succeeded here before \(replaced)", by: requester)
        }
        let release = try await store.release(releaseReference, projectID: project.id)
        return try await queue(
            project: project, release: release, environment: environment, action: "createDeployment", note: nil, by: requester)
    }

    /// Queues the preview of a release in an environment: `.releaseVerify` (the preflight of its
    /// service steps) or `.releaseDiff` (what they would change). It runs on the steps' targets
    /// with their credentials, so it takes what a deployment there takes: DeploymentCreate. The
    /// lifecycle does not limit it (seeing what Production would get is the point).
    public func previewRelease(
        _ kind: ServerTask.Kind, project projectReference: String, release releaseReference: String,
        environment environmentReference: String, space spaceReference: String, by requester: Requester
    ) async throws -> ServerTask {
        precondition(kind.previewMode != nil, "\(kind) is no preview")
        let space = try await space(spaceReference, needing: .deploymentCreate, by: requester)
        let project = try await store.project(projectReference, spaceID: space.id)
        guard let environment = try await store.findEnvironment(environmentReference, spaceID: space.id) else {
            throw BerthError.invalid(
                "preview", [.init(field: "environment", message: "there is no environment '\(environmentReference)'")])
        }
        try requester.require(
            .deploymentCreate, at: AccessScope(spaceID: space.id, projectID: project.id, environmentID: environment.id),
            for: "\(environment.name) (project '\(project.name)')")
        let release = try await store.release(releaseReference, projectID: project.id)
        return try await audited(
            kind == .releaseVerify ? "verifyRelease" : "diffRelease", record: release.auditReference,
            name: "\(project.name) \(release.version)",
            details: [("environment", .string(environment.name))], by: requester
        ) {
            try await engine.preview(
                kind, project: project, release: release, environment: environment, queuedBy: requester.user.username)
        }
    }

    /// Deploys a deployment's release to its environment again.
    public func redeploy(_ id: String, space spaceReference: String, by requester: Requester) async throws
        -> DeploymentDetails
    {
        let earlier = try await deployment(id, space: spaceReference, by: requester)
        try requester.require(
            .deploymentCreate,
            at: AccessScope(
                spaceID: earlier.project.spaceID, projectID: earlier.project.id, environmentID: earlier.environment.id),
            for: "\(earlier.environment.name) (project '\(earlier.project.name)')")
        return try await queue(
            project: earlier.project, release: earlier.release, environment: earlier.environment, action: "redeployDeployment",
            note: "again, as the deployment \(earlier.deployment.id)", by: requester)
    }

    /// The release to go back to in `environment`: the newest release created before the one
    /// deployed there last that succeeded there. Asked again, it goes further back, never forward.
    /// - Returns: the release, and the version it replaces. - Throws: 409 when there is none.
    func previousRelease(of project: Project, in environment: Environment) async throws -> (Release, replaced: String) {
        let history = try await store.deployments(
            spaceID: project.spaceID,
            BerthStore.DeploymentFilter(projectID: project.id, environmentID: environment.id, limit: 1000))
        guard let latest = history.first, let current = try await store.release(id: latest.deployment.releaseID) else {
            throw BerthError(
                .conflict,
                "The project '\(project.name)' was never deployed to \(environment.name): there is no previous release.")
        }
        var candidates: [Release] = []
        for deployment in history where deployment.state == .succeeded && deployment.deployment.releaseID != current.id {
            if let release = try await store.release(id: deployment.deployment.releaseID), release.createdAt < current.createdAt {
                candidates.append(release)
            }
        }
        guard let previous = candidates.max(by: { $0.createdAt < $1.createdAt }) else {
            throw BerthError(
                .conflict,
                "No release of '\(project.name)' older than \(current.version) ever succeeded in \(environment.name): there is no previous release to go back to."
            )
        }
        return (previous, current.version)
    }

    func queue(
        project: Project, release: Release, environment: Environment, action: String, note: String?, by requester: Requester
    ) async throws -> DeploymentDetails {
        var details: [(String, JSONValue)] = [
            ("project", .string(project.name)), ("release", .string(release.version)),
            ("environment", .string(environment.name)),
        ]
        if let note { details.append(("note", .string(note))) }
        try await requireLifecycleAllows(project, release, to: environment)
        let (deployment, task) = try await audited(
            action, record: release.auditReference, name: "\(project.name) \(release.version)", details: details,
            by: requester
        ) {
            try await engine.deploy(
                project: project, release: release, environment: environment, queuedBy: requester.user.username, note: note)
        }
        return DeploymentDetails(deployment: deployment, project: project, release: release, environment: environment, task: task)
    }

    /// Deployments of the space, newest first, leaving out those of projects the requester may
    /// not view (a page may then hold fewer than `filter.limit`). - Returns: the page as read
    /// (for its cursor) and what of it the requester may see.
    public func listDeployments(
        space reference: String, project: String?, environment: String?, filter: BerthStore.DeploymentFilter,
        by requester: Requester
    ) async throws -> (read: [DeploymentSummary], visible: [DeploymentSummary]) {
        let space = try await space(reference, needing: .projectView, by: requester)
        var filter = filter
        if let project { filter.projectID = try await store.project(project, spaceID: space.id).id }
        if let environment {
            guard let found = try await store.findEnvironment(environment, spaceID: space.id) else {
                throw BerthError.notFound("environment", environment)
            }
            filter.environmentID = found.id
        }
        let read = try await store.deployments(spaceID: space.id, filter)
        let visible = read.filter {
            requester.may(.projectView, at: AccessScope(spaceID: space.id, projectID: $0.deployment.projectID))
        }
        return (read, visible)
    }

    public func deployment(_ id: String, space reference: String, by requester: Requester) async throws -> DeploymentDetails {
        let space = try await space(reference, needing: .projectView, by: requester)
        guard let deployment = try await store.deployment(id: id), deployment.spaceID == space.id,
            let task = try await store.task(id: deployment.taskID),
            let project = try await store.project(id: deployment.projectID),
            let release = try await store.release(id: deployment.releaseID),
            let environment = try await store.findEnvironment(deployment.environmentID, spaceID: space.id)
        else { throw BerthError.notFound("deployment", id) }
        try requester.require(.projectView, for: project)
        return DeploymentDetails(deployment: deployment, project: project, release: release, environment: environment, task: task)
    }
}
