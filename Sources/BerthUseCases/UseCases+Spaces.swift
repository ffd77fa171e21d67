import BerthDomain
import BerthStore
import Foundation

/// Spaces, their environments and their worker pools.
extension UseCases {
    /// The space named `reference`, once the requester is seen to hold `permission` in it: for
    /// the space itself, or (a project or environment permission) for some of its projects or
    /// environments — the use case then checks the one it acts on.
    public func space(_ reference: String, needing permission: Permission, by requester: Requester) async throws -> Space {
        let space = try await store.space(reference)
        let held =
            switch permission.level {
            case .project, .environment:
                !requester.user.isDisabled && requester.caller.permissions(inSpace: space.id).contains(permission)
            case .server, .space: requester.may(permission, at: AccessScope(spaceID: space.id))
            }
        guard held else { throw requester.forbidden(permission, "the space '\(space.name)'") }
        return space
    }

    /// The spaces the requester may view.
    public func listSpaces(by requester: Requester) async throws -> [Space] {
        try await store.listSpaces().filter { requester.may(.spaceView, at: AccessScope(spaceID: $0.id)) }
    }

    public func createSpace(name: String, by requester: Requester) async throws -> Space {
        try requester.requireServer(.serverConfigure)
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        try errors.throwIfAny("space")
        let space = Space(name: name, createdAt: now())
        return try await audited("createSpace", before: nil, after: space, by: requester) {
            try await store.createSpace(space)
        }
    }

    // MARK: - Environments

    public func listEnvironments(space reference: String, by requester: Requester) async throws -> [Environment] {
        let space = try await space(reference, needing: .spaceView, by: requester)
        return try await store.listEnvironments(spaceID: space.id)
    }

    public func environment(_ reference: String, space spaceReference: String, by requester: Requester) async throws
        -> Environment
    {
        let space = try await space(spaceReference, needing: .spaceView, by: requester)
        return try await store.environment(reference, spaceID: space.id)
    }

    /// A new environment, at `sortOrder` (nil: after the others).
    public func createEnvironment(name: String, sortOrder: Int?, space reference: String, by requester: Requester)
        async throws -> Environment
    {
        let space = try await space(reference, needing: .environmentEdit, by: requester)
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        if let sortOrder, sortOrder < 0 { errors.add("sortOrder", "must be 0 or more") }
        try errors.throwIfAny("environment")
        var environment = Environment(spaceID: space.id, name: name, sortOrder: 0, createdAt: now())
        if let sortOrder {
            environment.sortOrder = sortOrder
        } else {
            environment.sortOrder = try await store.listEnvironments(spaceID: space.id).count
        }
        return try await audited("createEnvironment", before: nil, after: environment, by: requester) {
            try await store.createEnvironment(environment, position: sortOrder)
        }
    }

    /// Renames an environment, moves it to `sortOrder`, or both.
    public func updateEnvironment(
        _ reference: String, name: String?, sortOrder: Int?, space spaceReference: String, by requester: Requester
    ) async throws -> Environment {
        let space = try await space(spaceReference, needing: .environmentEdit, by: requester)
        let environment = try await store.environment(reference, spaceID: space.id)
        var errors = ValidationErrors()
        if let name { NameRules.validate(name, into: &errors) }
        if let sortOrder, sortOrder < 0 { errors.add("sortOrder", "must be 0 or more") }
        if name == nil && sortOrder == nil { errors.add("body", "give a new name, a new sortOrder, or both") }
        try errors.throwIfAny("environment change")
        var changed = environment
        changed.name = name ?? environment.name
        changed.sortOrder = sortOrder ?? environment.sortOrder
        return try await audited("updateEnvironment", before: environment, after: changed, by: requester) {
            try await store.updateEnvironment(id: environment.id, spaceID: space.id, name: name, position: sortOrder)
        }
    }

    public func deleteEnvironment(_ reference: String, space spaceReference: String, by requester: Requester) async throws {
        let space = try await space(spaceReference, needing: .environmentEdit, by: requester)
        let environment = try await store.environment(reference, spaceID: space.id)
        try await audited("deleteEnvironment", before: environment, after: nil, by: requester) {
            try await store.deleteEnvironment(id: environment.id, spaceID: space.id)
        }
    }

    /// Environments by name or id; unknown ones are all named in one error about `field`.
    public func resolveEnvironments(_ references: [String], spaceID: String, field: String) async throws -> [Environment] {
        let all = try await store.listEnvironments(spaceID: spaceID)
        var found: [Environment] = []
        var errors = ValidationErrors()
        for reference in references {
            if let environment = all.first(where: { $0.id == reference || $0.slug == Slug.make(reference) }) {
                if !found.contains(environment) { found.append(environment) }
            } else {
                let known = all.map(\.name).joined(separator: ", ")
                errors.add(field, "there is no environment '\(reference)' (known: \(known.isEmpty ? "none yet" : known))")
            }
        }
        try errors.throwIfAny("request")
        return found
    }

    // MARK: - Worker pools

    public func listWorkerPools(space reference: String, by requester: Requester) async throws -> [WorkerPool] {
        let space = try await space(reference, needing: .spaceView, by: requester)
        return try await store.listWorkerPools(spaceID: space.id)
    }

    public func workerPool(_ reference: String, space: Space) async throws -> WorkerPool {
        guard let pool = try await store.findWorkerPool(reference, spaceID: space.id) else {
            throw BerthError.notFound("worker pool", reference)
        }
        return pool
    }

    public func createWorkerPool(name: String, space reference: String, by requester: Requester) async throws -> WorkerPool {
        let space = try await space(reference, needing: .workerEdit, by: requester)
        var errors = ValidationErrors()
        NameRules.validate(name, into: &errors)
        try errors.throwIfAny("worker pool")
        let pool = WorkerPool(spaceID: space.id, name: name, isDefault: false, createdAt: now())
        return try await audited("createWorkerPool", before: nil, after: pool, by: requester) {
            try await store.createWorkerPool(pool)
        }
    }

    public func deleteWorkerPool(_ reference: String, space spaceReference: String, by requester: Requester) async throws {
        let space = try await space(spaceReference, needing: .workerEdit, by: requester)
        let pool = try await workerPool(reference, space: space)
        try await audited("deleteWorkerPool", before: pool, after: nil, by: requester) {
            try await store.deleteWorkerPool(id: pool.id)
        }
    }
}
