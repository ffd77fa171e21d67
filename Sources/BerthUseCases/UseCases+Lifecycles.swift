import BerthDomain
import BerthStore
import Foundation

/// Lifecycles: the phases a project's releases pass before they may go further.
extension UseCases {
    /// A lifecycle as a person gives it: environments by name.
    public struct LifecycleInput: Sendable {
        public struct Phase: Sendable {
            public var name: String
            public var environments: [String]
            public var isOptional: Bool
            public var minimumEnvironments: Int?

            public init(name: String, environments: [String], isOptional: Bool = false, minimumEnvironments: Int? = nil) {
                self.name = name
                self.environments = environments
                self.isOptional = isOptional
                self.minimumEnvironments = minimumEnvironments
            }
        }

        public var name: String
        public var description: String
        public var phases: [Phase]

        public init(name: String, description: String = "", phases: [Phase]) {
            self.name = name
            self.description = description
            self.phases = phases
        }
    }

    public func listLifecycles(space reference: String, by requester: Requester) async throws -> [Lifecycle] {
        let space = try await space(reference, needing: .spaceView, by: requester)
        return try await store.listLifecycles(spaceID: space.id)
    }

    public func lifecycle(_ reference: String, space spaceReference: String, by requester: Requester) async throws
        -> Lifecycle
    {
        let space = try await space(spaceReference, needing: .spaceView, by: requester)
        guard let lifecycle = try await store.findLifecycle(reference, spaceID: space.id) else {
            throw BerthError.notFound("lifecycle", reference)
        }
        return lifecycle
    }

    public func createLifecycle(_ input: LifecycleInput, space reference: String, by requester: Requester) async throws
        -> Lifecycle
    {
        let space = try await space(reference, needing: .environmentEdit, by: requester)
        let lifecycle = try await lifecycle(from: input, id: RecordID.make("lfc"), in: space, createdAt: now())
        return try await audited("createLifecycle", before: nil, after: lifecycle, by: requester) {
            try await store.createLifecycle(lifecycle)
        }
    }

    /// Replaces a lifecycle's name, description and phases.
    public func updateLifecycle(
        _ reference: String, _ input: LifecycleInput, space spaceReference: String, by requester: Requester
    ) async throws -> Lifecycle {
        let space = try await space(spaceReference, needing: .environmentEdit, by: requester)
        guard let existing = try await store.findLifecycle(reference, spaceID: space.id) else {
            throw BerthError.notFound("lifecycle", reference)
        }
        var changed = try await lifecycle(from: input, id: existing.id, in: space, createdAt: existing.createdAt)
        changed.updatedAt = now()
        return try await audited("updateLifecycle", before: existing, after: changed, by: requester) {
            try await store.updateLifecycle(changed)
        }
    }

    func lifecycle(from input: LifecycleInput, id: String, in space: Space, createdAt: Date) async throws -> Lifecycle {
        var phases: [Lifecycle.Phase] = []
        for (index, phase) in input.phases.enumerated() {
            let environments = try await resolveEnvironments(
                phase.environments, spaceID: space.id, field: "phases[\(index)].environments")
            phases.append(
                Lifecycle.Phase(
                    name: phase.name, environmentIDs: environments.map(\.id), isOptional: phase.isOptional,
                    minimumEnvironments: phase.minimumEnvironments))
        }
        let lifecycle = Lifecycle(
            id: id, spaceID: space.id, name: input.name, description: input.description, phases: phases, createdAt: createdAt)
        let names = Dictionary(uniqueKeysWithValues: try await store.listEnvironments(spaceID: space.id).map { ($0.id, $0.name) })
        try lifecycle.validate(environmentNames: names)
        return lifecycle
    }

    /// - Throws: 409 naming the phase and the environments still missing when the project's
    ///   lifecycle does not let `release` go to `environment` yet.
    func requireLifecycleAllows(_ project: Project, _ release: Release, to environment: Environment) async throws {
        guard let id = project.lifecycleID, let lifecycle = try await store.lifecycle(id: id) else { return }
        let succeeded = try await store.succeededEnvironments(releaseID: release.id)
        guard let refusal = lifecycle.refusal(toDeployTo: environment.id, succeeded: succeeded) else { return }
        let names = Dictionary(
            uniqueKeysWithValues: try await store.listEnvironments(spaceID: project.spaceID).map { ($0.id, $0.name) })
        switch refusal {
        case .notInLifecycle:
            throw BerthError(
                .conflict,
                "The lifecycle '\(lifecycle.name)' of the project '\(project.name)' has no phase with \(environment.name): add it to a phase (berth lifecycle update) to deploy there."
            )
        case .phaseNotPassed(let phase, let needed, let missing):
            let missingNames = missing.map { names[$0] ?? $0 }.joined(separator: ", ")
            throw BerthError(
                .conflict,
                "The release \(release.version) of '\(project.name)' cannot go to \(environment.name) yet: the phase '\(phase)' of the lifecycle '\(lifecycle.name)' needs \(needed) more successful deployment\(needed == 1 ? "" : "s") of it first (still missing: \(missingNames))."
            )
        }
    }

    /// Where a release may go now: the environments its project's lifecycle has opened to it
    /// (every environment of the space without a lifecycle), in order.
    public func nextEnvironments(of release: Release, project: Project) async throws -> [Environment] {
        let environments = try await store.listEnvironments(spaceID: project.spaceID)
        guard let id = project.lifecycleID, let lifecycle = try await store.lifecycle(id: id) else { return environments }
        let open = lifecycle.openEnvironments(succeeded: try await store.succeededEnvironments(releaseID: release.id))
        return open.compactMap { id in environments.first { $0.id == id } }
    }
}
