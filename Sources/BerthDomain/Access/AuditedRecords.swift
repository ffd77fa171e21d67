import Foundation

// How each record shows in the audit log: the fields a person changes, never a timestamp that
// every write moves, and secrets only as fingerprints (see ``AuditField/secret(_:)``).

extension Space: AuditedRecord {
    public var auditReference: String { "spaces/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] { [("name", .text(name))] }
}

extension Environment: AuditedRecord {
    public var auditReference: String { "environments/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] { [("name", .text(name)), ("sortOrder", .number(sortOrder))] }
}

extension WorkerPool: AuditedRecord {
    public var auditReference: String { "worker-pools/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] { [("name", .text(name)), ("isDefault", .flag(isDefault))] }
}

extension Account: AuditedRecord {
    public var auditReference: String { "accounts/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        [
            ("type", .text(kind.rawValue)), ("name", .text(name)), ("description", .text(description)),
            ("environments", .list(environmentIDs)), ("region", .text(region)), ("accessKeyId", .text(accessKeyID)),
            ("secretKey", .sealed(secretKey)), ("roleArn", .text(roleARN)), ("sessionDuration", .number(sessionDuration)),
            ("audience", .text(audience)), ("subjectKeys", .list(subjectKeys)),
            ("customClaims", .value(.object(customClaims.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
        ]
    }
}

extension ECSClusterTarget: AuditedRecord {
    public var auditReference: String { "targets/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        let account: String? =
            switch authentication {
            case .account(let id): id
            case .workerCredentials: nil
            }
        return [
            ("name", .text(name)), ("environments", .list(environmentIDs)), ("roles", .list(roles)), ("account", .text(account)),
            ("useWorkerCredentials", .flag(account == nil)), ("assumeRoleArn", .text(assumeRole?.roleARN)),
            ("assumeRoleSessionName", .text(assumeRole?.sessionName)),
            ("assumeRoleSessionDuration", .number(assumeRole?.sessionDuration)),
            ("assumeRoleExternalId", .text(assumeRole?.externalID)), ("region", .text(region)),
            ("clusterName", .text(clusterName)), ("workerPool", .text(workerPoolID)),
        ]
    }
}

extension Project: AuditedRecord {
    public var auditReference: String { "projects/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        [
            ("name", .text(name)), ("description", .text(description)), ("lifecycle", .text(lifecycleID)),
            (
                "steps",
                .value(
                    .array(
                        steps.map { step in
                            .object([
                                ("name", .string(step.name)), ("type", .string(step.kind.rawValue)),
                                ("targetRoles", .array(step.targetRoles.map(JSONValue.string))), ("properties", step.properties),
                            ])
                        }))
            ),
        ]
    }
}

extension ProjectVariable: AuditedRecord {
    public var auditReference: String { "variables/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        [
            ("name", .text(name)), ("type", .text(kind.rawValue)),
            kind == .sensitive ? ("value", .sealed(sealedValue)) : ("value", .text(value)),
            ("scope.environments", .list(scope.environmentIDs)), ("scope.roles", .list(scope.roles)),
            ("scope.targets", .list(scope.targetIDs)),
        ]
    }
}

extension Release: AuditedRecord {
    public var auditReference: String { "releases/\(id)" }
    public var auditName: String { version }
    public var auditFields: [(String, AuditField)] {
        [
            ("project", .text(projectID)), ("version", .text(version)),
            ("images", .value(.object(snapshot.images.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
            ("steps", .list(snapshot.steps.map(\.name))),
        ]
    }
}

extension Deployment: AuditedRecord {
    public var auditReference: String { "deployments/\(id)" }
    public var auditName: String { id }
    public var auditFields: [(String, AuditField)] {
        [
            ("project", .text(projectID)), ("release", .text(releaseID)), ("environment", .text(environmentID)),
            ("task", .text(taskID)),
        ]
    }
}

extension User: AuditedRecord {
    public var auditReference: String { "users/\(id)" }
    public var auditName: String { username }
    public var auditFields: [(String, AuditField)] {
        [
            ("username", .text(username)), ("displayName", .text(displayName)), ("email", .text(email)),
            ("kind", .text(kind.rawValue)), ("disabled", .flag(isDisabled)),
        ]
    }
}

extension Team: AuditedRecord {
    public var auditReference: String { "teams/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] { [("name", .text(name)), ("description", .text(description))] }
}

extension Role: AuditedRecord {
    public var auditReference: String { "roles/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        [
            ("name", .text(name)), ("description", .text(description)),
            ("permissions", .list(permissions.sorted().map(\.rawValue))),
        ]
    }
}

extension AccessGrant: AuditedRecord {
    public var auditReference: String { "grants/\(id)" }
    public var auditName: String { id }
    public var auditFields: [(String, AuditField)] {
        [
            ("team", .text(teamID)), ("role", .text(roleID)), ("space", .text(spaceID)), ("projects", .set(projectIDs)),
            ("environments", .set(environmentIDs)),
        ]
    }
}

extension APIKey: AuditedRecord {
    public var auditReference: String { "api-keys/\(id)" }
    public var auditName: String { name }
    public var auditFields: [(String, AuditField)] {
        [
            ("name", .text(name)), ("user", .text(userID)), ("prefix", .text(prefix)), ("expiresAt", .date(expiresAt)),
            ("limitRole", .text(limitRoleID)), ("limitSpace", .text(limitSpaceID)), ("revokedAt", .date(revokedAt)),
        ]
    }
}
