import BerthDomain
import BerthEngine
import BerthStore
import Foundation

/// ECS cluster targets and their health checks.
extension UseCases {
    /// A target as a person describes it: environments, account and pool by name or id.
    public struct TargetInput: Sendable {
        public var name: String
        public var environments: [String]
        public var roles: [String]
        /// The account whose credentials reach the cluster; nil with `useWorkerCredentials`.
        public var account: String?
        public var useWorkerCredentials: Bool
        public var assumeRole: AssumeRoleSettings?
        public var region: String
        public var clusterName: String
        /// nil: the space's default pool.
        public var workerPool: String?

        public init(
            name: String, environments: [String], roles: [String], account: String? = nil, useWorkerCredentials: Bool = false,
            assumeRole: AssumeRoleSettings? = nil, region: String, clusterName: String, workerPool: String? = nil
        ) {
            self.name = name
            self.environments = environments
            self.roles = roles
            self.account = account
            self.useWorkerCredentials = useWorkerCredentials
            self.assumeRole = assumeRole
            self.region = region
            self.clusterName = clusterName
            self.workerPool = workerPool
        }
    }

    /// What an update of a target changes: nil leaves a field as it is.
    public struct TargetChange: Sendable {
        public var name: String?
        public var environments: [String]?
        public var roles: [String]?
        public var account: String?
        public var useWorkerCredentials: Bool?
        public var assumeRole: AssumeRoleSettings?
        public var removeAssumeRole = false
        public var region: String?
        public var clusterName: String?
        public var workerPool: String?

        public init() {}
    }

    public func target(_ reference: String, space spaceReference: String, by requester: Requester) async throws
        -> ECSClusterTarget
    {
        let space = try await space(spaceReference, needing: .spaceView, by: requester)
        return try await store.target(reference, spaceID: space.id)
    }

    public func createTarget(_ input: TargetInput, space reference: String, by requester: Requester) async throws
        -> ECSClusterTarget
    {
        let space = try await space(reference, needing: .targetEdit, by: requester)
        let environments = try await resolveEnvironments(input.environments, spaceID: space.id, field: "environments")
        var account: Account?
        if let reference = input.account?.nonBlank {
            account = try await targetAccount(reference, space: space)
        }
        let pool =
            if let reference = input.workerPool?.nonBlank {
                try await targetPool(reference, space: space)
            } else {
                try await store.defaultWorkerPool(spaceID: space.id)
            }
        let draft = TargetDraft(
            name: input.name, environments: environments, roles: input.roles, account: account,
            useWorkerCredentials: input.useWorkerCredentials, assumeRole: input.assumeRole, region: input.region,
            clusterName: input.clusterName)
        try draft.validate()
        let target = ECSClusterTarget(
            spaceID: space.id, name: draft.name, environmentIDs: environments.map(\.id), roles: draft.roles,
            authentication: account.map { .account($0.id) } ?? .workerCredentials, assumeRole: input.assumeRole,
            region: draft.region, clusterName: draft.clusterName, workerPoolID: pool.id, createdAt: now())
        return try await audited("createTarget", before: nil, after: target, by: requester) {
            try await store.createTarget(target)
        }
    }

    public func updateTarget(
        _ reference: String, _ change: TargetChange, space spaceReference: String, by requester: Requester
    ) async throws -> ECSClusterTarget {
        let space = try await space(spaceReference, needing: .targetEdit, by: requester)
        let target = try await store.target(reference, spaceID: space.id)
        var changed = target
        let environments = try await resolveEnvironments(
            change.environments ?? target.environmentIDs, spaceID: space.id, field: "environments")
        var account: Account?
        var useWorkerCredentials = false
        if change.useWorkerCredentials == true {
            useWorkerCredentials = true
            if change.account?.nonBlank != nil {
                throw BerthError.invalid(
                    "ECS cluster target",
                    [.init(field: "useWorkerCredentials", message: "cannot be combined with an account; choose one")])
            }
        } else if let reference = change.account?.nonBlank {
            account = try await targetAccount(reference, space: space)
        } else {
            switch target.authentication {
            case .account(let id): account = try await store.account(id: id)
            // `false` without an account: the validation below asks for one.
            case .workerCredentials: useWorkerCredentials = change.useWorkerCredentials != false
            }
        }
        if let reference = change.workerPool?.nonBlank {
            changed.workerPoolID = try await targetPool(reference, space: space).id
        }
        var assumeRole = target.assumeRole
        if change.removeAssumeRole { assumeRole = nil }
        if let settings = change.assumeRole { assumeRole = settings }
        let draft = TargetDraft(
            name: change.name ?? target.name, environments: environments, roles: change.roles ?? target.roles,
            account: account, useWorkerCredentials: useWorkerCredentials, assumeRole: assumeRole,
            region: change.region ?? target.region, clusterName: change.clusterName ?? target.clusterName)
        try draft.validate()
        changed.name = draft.name
        changed.environmentIDs = environments.map(\.id)
        changed.roles = draft.roles
        changed.authentication = account.map { .account($0.id) } ?? .workerCredentials
        changed.assumeRole = assumeRole
        changed.region = draft.region
        changed.clusterName = draft.clusterName
        changed.updatedAt = now()
        // Another cluster, or other credentials: the last health check no longer says anything.
        if changed.region != target.region || changed.clusterName != target.clusterName
            || changed.assumeRole != target.assumeRole || changed.authentication != target.authentication
        {
            changed.health = TargetHealth()
        }
        return try await audited("updateTarget", before: target, after: changed, by: requester) {
            try await store.updateTarget(changed)
        }
    }

    public func deleteTarget(_ reference: String, space spaceReference: String, by requester: Requester) async throws {
        let space = try await space(spaceReference, needing: .targetEdit, by: requester)
        let target = try await store.target(reference, spaceID: space.id)
        try await audited("deleteTarget", before: target, after: nil, by: requester) {
            try await store.deleteTarget(id: target.id)
        }
    }

    /// Queues a health check of the target.
    public func checkTargetHealth(_ reference: String, space spaceReference: String, by requester: Requester) async throws
        -> ServerTask
    {
        let space = try await space(spaceReference, needing: .targetHealthCheck, by: requester)
        let target = try await store.target(reference, spaceID: space.id)
        let tasks = try await audited("checkTargetHealth", record: target.auditReference, name: target.name, by: requester) {
            try await engine.checkHealth(of: [target], queuedBy: requester.user.username)
        }
        return tasks[0]
    }

    /// Queues a health check of every target of the space.
    public func checkAllTargetsHealth(space reference: String, by requester: Requester) async throws -> [ServerTask] {
        let space = try await space(reference, needing: .targetHealthCheck, by: requester)
        let targets = try await store.allTargets(spaceID: space.id)
        return try await audited(
            "checkAllTargetsHealth", record: space.auditReference, name: space.name,
            details: [("targets", .number(Double(targets.count)))], by: requester
        ) {
            try await engine.checkHealth(of: targets, queuedBy: requester.user.username)
        }
    }

    func targetAccount(_ reference: String, space: Space) async throws -> Account {
        guard let account = try await store.findAccount(reference, spaceID: space.id) else {
            throw BerthError.invalid(
                "ECS cluster target", [.init(field: "account", message: "there is no account '\(reference)'")])
        }
        return account
    }

    func targetPool(_ reference: String, space: Space) async throws -> WorkerPool {
        guard let pool = try await store.findWorkerPool(reference, spaceID: space.id) else {
            throw BerthError.invalid(
                "ECS cluster target", [.init(field: "workerPool", message: "there is no worker pool '\(reference)'")])
        }
        return pool
    }
}

extension String {
    /// nil for an empty or blank string, so that `""` in a form means "not set".
    public var nonBlank: String? {
        trimmingCharacters(in: .whitespaces).isEmpty ? nil : self
    }
}
