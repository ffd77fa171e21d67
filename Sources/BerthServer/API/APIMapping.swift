import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import Foundation

// Domain values as the API shows them. Secrets appear only as `{"hasValue": …}`.

extension Components.Schemas.Space {
    init(_ space: Space) {
        self.init(id: space.id, name: space.name, slug: space.slug, createdAt: space.createdAt)
    }
}

extension Components.Schemas.Environment {
    init(_ environment: Environment) {
        self.init(
            id: environment.id, name: environment.name, slug: environment.slug, sortOrder: environment.sortOrder,
            createdAt: environment.createdAt)
    }
}

extension Components.Schemas.WorkerPool {
    init(_ pool: WorkerPool) {
        self.init(id: pool.id, name: pool.name, slug: pool.slug, isDefault: pool.isDefault, createdAt: pool.createdAt)
    }
}

extension Account.Kind {
    init(_ type: Components.Schemas.AccountType) {
        switch type {
        case .awsAccessKey: self = .awsAccessKey
        case .awsOidc: self = .awsOIDC
        }
    }
}

extension Components.Schemas.AccountType {
    init(_ kind: Account.Kind) {
        switch kind {
        case .awsAccessKey: self = .awsAccessKey
        case .awsOIDC: self = .awsOidc
        }
    }
}

extension Components.Schemas.Account {
    init(_ account: Account, environmentNames: [String: String]) {
        self.init(
            id: account.id, _type: .init(account.kind), name: account.name, slug: account.slug,
            description: account.description, environments: account.environmentIDs.compactMap { environmentNames[$0] },
            region: account.region, accessKeyId: account.accessKeyID,
            secretKey: account.kind == .awsAccessKey ? .init(hasValue: account.secretKey != nil) : nil,
            roleArn: account.roleARN, sessionDuration: account.sessionDuration, audience: account.audience,
            subjectKeys: account.kind == .awsOIDC ? account.subjectKeys : nil,
            customClaims: account.kind == .awsOIDC ? .init(additionalProperties: account.customClaims) : nil,
            createdAt: account.createdAt, updatedAt: account.updatedAt)
    }
}

/// Names of the records a target refers to, loaded once per response.
struct TargetNames {
    var environments: [String: String]
    var accounts: [String: String]
    var pools: [String: String]

    static func load(store: BerthStore, spaceID: String) async throws -> TargetNames {
        async let environments = store.listEnvironments(spaceID: spaceID)
        async let accounts = store.listAccounts(spaceID: spaceID)
        async let pools = store.listWorkerPools(spaceID: spaceID)
        return TargetNames(
            environments: Dictionary(uniqueKeysWithValues: try await environments.map { ($0.id, $0.name) }),
            accounts: Dictionary(uniqueKeysWithValues: try await accounts.map { ($0.id, $0.name) }),
            pools: Dictionary(uniqueKeysWithValues: try await pools.map { ($0.id, $0.name) }))
    }
}

extension Components.Schemas.HealthStatus {
    init(_ status: HealthStatus) {
        switch status {
        case .unknown: self = .unknown
        case .healthy: self = .healthy
        case .unhealthy: self = .unhealthy
        case .unavailable: self = .unavailable
        }
    }
}

extension Components.Schemas.Target {
    init(_ target: ECSClusterTarget, names: TargetNames) {
        let accountName: String? =
            switch target.authentication {
            case .account(let id): names.accounts[id] ?? id
            case .workerCredentials: nil
            }
        self.init(
            id: target.id, name: target.name, slug: target.slug,
            environments: target.environmentIDs.compactMap { names.environments[$0] }.sorted(), roles: target.roles,
            account: accountName, useWorkerCredentials: accountName == nil,
            assumeRole: target.assumeRole.map {
                .init(
                    roleArn: $0.roleARN, sessionName: $0.sessionName, sessionDuration: $0.sessionDuration,
                    externalId: $0.externalID)
            }, region: target.region, clusterName: target.clusterName,
            workerPool: names.pools[target.workerPoolID] ?? target.workerPoolID,
            health: .init(
                status: .init(target.health.status), message: target.health.message, checkedAt: target.health.checkedAt,
                taskId: target.health.taskID), createdAt: target.createdAt, updatedAt: target.updatedAt)
    }
}

extension Components.Schemas.TargetList {
    init(_ listing: TargetListing) {
        self.init(items: listing.entries.map { .init($0) }, nextCursor: listing.nextCursor)
    }
}

extension Components.Schemas.Target {
    /// A target of a listing, with the names the listing read (`TargetListJSON` writes the same).
    init(_ entry: TargetListing.Entry) {
        let target = entry.target
        let account: String? =
            switch target.authentication {
            case .account(let id): entry.accountName ?? id
            case .workerCredentials: nil
            }
        self.init(
            id: target.id, name: target.name, slug: target.slug, environments: entry.environmentNames.sorted(),
            roles: target.roles, account: account, useWorkerCredentials: account == nil,
            assumeRole: target.assumeRole.map {
                .init(
                    roleArn: $0.roleARN, sessionName: $0.sessionName, sessionDuration: $0.sessionDuration,
                    externalId: $0.externalID)
            }, region: target.region, clusterName: target.clusterName,
            workerPool: entry.workerPoolName ?? target.workerPoolID,
            health: .init(
                status: .init(target.health.status), message: target.health.message, checkedAt: target.health.checkedAt,
                taskId: target.health.taskID), createdAt: target.createdAt, updatedAt: target.updatedAt)
    }
}

extension ServerTask.State {
    init(_ state: Components.Schemas.TaskState) {
        switch state {
        case .queued: self = .queued
        case .executing: self = .executing
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .timedOut: self = .timedOut
        case .rolledBack: self = .rolledBack
        }
    }
}

extension Components.Schemas.TaskState {
    init(_ state: ServerTask.State) {
        switch state {
        case .queued: self = .queued
        case .executing: self = .executing
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        case .timedOut: self = .timedOut
        case .rolledBack: self = .rolledBack
        }
    }
}

extension Components.Schemas.ServerTask {
    init(_ task: ServerTask, spaceName: String?) {
        self.init(
            id: task.id, kind: .init(rawValue: task.kind.rawValue) ?? .accountTest, description: task.description,
            state: .init(task.state), space: spaceName, targetId: task.targetID, accountId: task.accountID,
            createdAt: task.createdAt, startedAt: task.startedAt, completedAt: task.completedAt,
            errorMessage: task.errorMessage, identityArn: task.identityARN, healthStatus: task.healthStatus.map { .init($0) },
            node: task.ownerNode, queuedBy: task.queuedBy,
            cancelRequested: task.state == .executing && task.cancelRequested ? true : nil)
    }
}

extension Components.Schemas.TaskLogLine {
    init(_ line: TaskLogLine) {
        let level: Components.Schemas.LogLevel =
            switch line.level {
            case .verbose: .verbose
            case .info: .info
            case .warning: .warning
            case .error: .error
            }
        self.init(sequence: line.sequence, time: line.time, level: level, message: line.message, section: line.section)
    }
}

extension Components.Schemas.ApiKey {
    init(_ key: APIKey) {
        self.init(
            id: key.id, name: key.name, prefix: key.prefix, createdAt: key.createdAt, lastUsedAt: key.lastUsedAt,
            revokedAt: key.revokedAt, expiresAt: key.expiresAt, roleId: key.limitRoleID, spaceId: key.limitSpaceID)
    }
}
