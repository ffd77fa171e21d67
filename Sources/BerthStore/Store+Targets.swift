import BerthDomain
import Foundation
import SQLKit

/// One page of targets as the API lists them, by name: each target with the names that the API
/// shows instead of ids.
public struct TargetListing: Sendable {
    public struct Entry: Sendable, Hashable {
        public var target: ECSClusterTarget
        /// The names of the target's environments that belong to its space, in no order.
        public var environmentNames: [String]
        /// The name of the target's account, nil when it has none or the account is not in its space.
        public var accountName: String?
        /// The name of the target's worker pool, nil when the pool is not in its space.
        public var workerPoolName: String?

        public init(target: ECSClusterTarget, environmentNames: [String], accountName: String?, workerPoolName: String?) {
            self.target = target
            self.environmentNames = environmentNames
            self.accountName = accountName
            self.workerPoolName = workerPoolName
        }
    }

    public var entries: [Entry]
    /// Pass as `after` to get the next page; nil on the last page.
    public var nextCursor: String?

    public init(entries: [Entry], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
}

/// One page of targets, by name.
public struct TargetPage: Sendable {
    public var targets: [ECSClusterTarget]
    /// Pass as `after` to get the next page; nil on the last page.
    public var nextCursor: String?
}

extension BerthStore {
    /// Targets by name, `limit` at a time, optionally only those in an environment or with a role.
    public func listTargets(
        spaceID: String, environmentID: String? = nil, role: String? = nil, limit: Int = 100, after: String? = nil
    ) async throws -> TargetPage {
        try await database.withConnection { db in
            var query: HotQuery = "SELECT * FROM targets"
            Self.appendPageClauses(
                to: &query, table: "targets", spaceID: spaceID, environmentID: environmentID, role: role, limit: limit,
                after: after)
            let rows = try await db.raw(query.sqlQueryString).all()
            let pageRows = rows.prefix(limit)
            let ids = try pageRows.map { try $0.string("id") }
            let environments = try await Self.targetEnvironments(ids, db)
            let targets = try pageRows.map { try Self.target($0, environmentIDs: environments) }
            return TargetPage(targets: targets, nextCursor: rows.count > limit ? targets.last?.name : nil)
        }
    }

    /// A page of targets as the API lists them: like `listTargets`, and with the names of each
    /// target's environments, account and worker pool.
    ///
    /// The busiest read of the API, so one hot read (`Database.read(_:_:)`): the page (with its
    /// account and pool names) in a subquery, joined to its environments — a row per target and
    /// environment, a target's rows next to each other — read by column position
    /// (`TargetListingColumn`).
    public func targetListing(
        spaceID: String, environmentID: String? = nil, role: String? = nil, limit: Int = 100, after: String? = nil
    ) async throws -> TargetListing {
        var query: HotQuery = """
            SELECT \(unsafeRaw: TargetListingColumn.selectList) FROM (\
            SELECT t.id, t.space_id, t.name, t.roles, t.account_id, a.name AS account_name, t.assume_role, t.region, \
            t.cluster_name, t.worker_pool_id, p.name AS worker_pool_name, t.health_status, t.health_message, \
            t.health_checked_at, t.health_task_id, t.created_at, t.updated_at FROM targets t \
            LEFT JOIN accounts a ON a.id = t.account_id AND a.space_id = t.space_id \
            LEFT JOIN worker_pools p ON p.id = t.worker_pool_id AND p.space_id = t.space_id
            """
        Self.appendPageClauses(
            to: &query, table: "t", spaceID: spaceID, environmentID: environmentID, role: role, limit: limit, after: after)
        query.append(
            """
            ) page LEFT JOIN target_environments te ON te.target_id = page.id \
            LEFT JOIN environments e ON e.id = te.environment_id AND e.space_id = page.space_id ORDER BY page.name
            """)
        return try await database.read(query) { rows in try Self.listing(&rows, limit: limit) }
    }

    /// The page of `targetListing`'s rows: a target's rows (one per environment) are next to each
    /// other; the target after the `limit`th only tells that another page follows.
    static func listing(_ rows: inout any RowCursor, limit: Int) throws -> TargetListing {
        typealias Column = TargetListingColumn
        var entries: [TargetListing.Entry] = []
        entries.reserveCapacity(limit)
        var hasRow = try rows.next()
        while hasRow {
            guard entries.count < limit else {
                return TargetListing(entries: entries, nextCursor: entries.last?.target.name)
            }
            let id = try rows.string(Column.id.rawValue)
            let target = try Self.target(rows, id: id)
            let accountName = try rows.optionalString(Column.accountName.rawValue)
            let workerPoolName = try rows.optionalString(Column.workerPoolName.rawValue)
            var environmentIDs: [String] = []
            var environmentNames: [String] = []
            repeat {
                if let environmentID = try rows.optionalString(Column.environmentID.rawValue) {
                    environmentIDs.append(environmentID)
                }
                if let name = try rows.optionalString(Column.environmentName.rawValue) { environmentNames.append(name) }
                hasRow = try rows.next()
            } while try hasRow && rows.string(Column.id.rawValue) == id
            var entry = TargetListing.Entry(
                target: target, environmentNames: environmentNames, accountName: accountName, workerPoolName: workerPoolName)
            entry.target.environmentIDs = environmentIDs.sorted()
            entries.append(entry)
        }
        return TargetListing(entries: entries, nextCursor: nil)
    }

    /// Appends the conditions, order and limit of a page of targets to a query on `table` (the
    /// table's name or alias): the space, the optional filters, the cursor, one row more than
    /// `limit` to tell whether another page follows.
    static func appendPageClauses(
        to query: inout HotQuery, table: String, spaceID: String, environmentID: String?, role: String?,
        limit: Int, after: String?
    ) {
        query.append(" WHERE \(unsafeRaw: table).space_id = \(bind: spaceID)")
        if let environmentID {
            query.append(
                """
                 AND \(unsafeRaw: table).id IN (SELECT target_id FROM target_environments WHERE \
                environment_id = \(bind: environmentID))
                """)
        }
        if let role {
            // `(? || '')`, not a bare `?`: SQLite's LIKE optimisation looks at a bare parameter's
            // value, and then prepares the statement again for every new value.
            query.append(
                " AND \(unsafeRaw: table).roles LIKE (\(bind: "%\"" + Self.escapeLike(role) + "\"%") || '') ESCAPE '!'")
        }
        if let after {
            query.append(" AND \(unsafeRaw: table).name > \(bind: after)")
        }
        query.append(" ORDER BY \(unsafeRaw: table).name LIMIT \(bind: Int64(limit + 1))")
    }

    /// Every target of a space (for health-checking them all).
    public func allTargets(spaceID: String) async throws -> [ECSClusterTarget] {
        var result: [ECSClusterTarget] = []
        var cursor: String?
        repeat {
            let page = try await listTargets(spaceID: spaceID, limit: 1000, after: cursor)
            result += page.targets
            cursor = page.nextCursor
        } while cursor != nil
        return result
    }

    public func findTarget(_ reference: String, spaceID: String) async throws -> ECSClusterTarget? {
        let (id, slug) = referenceClause(reference)
        return try await database.withConnection { db in
            guard
                let row = try await db.raw(
                    "SELECT * FROM targets WHERE space_id = \(bind: spaceID) AND (id = \(bind: id) OR slug = \(bind: slug))"
                ).first()
            else { return nil }
            return try Self.target(row, environmentIDs: try await Self.targetEnvironments([try row.string("id")], db))
        }
    }

    public func target(_ reference: String, spaceID: String) async throws -> ECSClusterTarget {
        guard let target = try await findTarget(reference, spaceID: spaceID) else {
            throw BerthError.notFound("target", reference)
        }
        return target
    }

    public func target(id: String) async throws -> ECSClusterTarget? {
        try await database.withConnection { db in
            guard let row = try await db.raw("SELECT * FROM targets WHERE id = \(bind: id)").first() else { return nil }
            return try Self.target(row, environmentIDs: try await Self.targetEnvironments([id], db))
        }
    }

    /// Inserts the target and its environments together.
    public func createTarget(_ target: ECSClusterTarget) async throws -> ECSClusterTarget {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a target", name: target.name)) { db in
            try await Self.ensureNameIsFree("targets", kind: "a target", name: target.name, spaceID: target.spaceID, db)
            let accountID: String? =
                switch target.authentication {
                case .account(let id): id
                case .workerCredentials: nil
                }
            try await db.raw(
                """
                INSERT INTO targets (id, space_id, name, slug, roles, account_id, assume_role, region, cluster_name, \
                worker_pool_id, health_status, health_message, health_checked_at, health_task_id, created_at, updated_at) VALUES \
                (\(bind: target.id), \(bind: target.spaceID), \(bind: target.name), \(bind: target.slug), \
                \(bind: jsonText(target.roles)), \(bind: accountID), \(bind: target.assumeRole.map(jsonText)), \
                \(bind: target.region), \(bind: target.clusterName), \(bind: target.workerPoolID), \
                \(bind: target.health.status.rawValue), \(bind: target.health.message), \
                \(bind: target.health.checkedAt.unixMilliseconds), \(bind: target.health.taskID), \
                \(bind: target.createdAt.unixMilliseconds), \(bind: target.updatedAt.unixMilliseconds))
                """
            ).run()
            try await Self.replaceLinks(
                table: "target_environments", ownerColumn: "target_id", owner: target.id, environmentIDs: target.environmentIDs,
                db)
            try await Self.bumpRevision(spaceID: target.spaceID, db)
            return target
        }
    }

    /// Writes every field of `target` (loaded and changed by the caller) and its environments together.
    public func updateTarget(_ target: ECSClusterTarget) async throws -> ECSClusterTarget {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a target", name: target.name)) { db in
            try await Self.ensureNameIsFree(
                "targets", kind: "a target", name: target.name, spaceID: target.spaceID, excluding: target.id, db)
            let accountID: String? =
                switch target.authentication {
                case .account(let id): id
                case .workerCredentials: nil
                }
            try await db.raw(
                """
                UPDATE targets SET name = \(bind: target.name), slug = \(bind: target.slug), roles = \(bind: jsonText(target.roles)), \
                account_id = \(bind: accountID), assume_role = \(bind: target.assumeRole.map(jsonText)), \
                region = \(bind: target.region), cluster_name = \(bind: target.clusterName), \
                worker_pool_id = \(bind: target.workerPoolID), health_status = \(bind: target.health.status.rawValue), \
                health_message = \(bind: target.health.message), health_checked_at = \(bind: target.health.checkedAt.unixMilliseconds), \
                health_task_id = \(bind: target.health.taskID), updated_at = \(bind: target.updatedAt.unixMilliseconds) \
                WHERE id = \(bind: target.id)
                """
            ).run()
            try await Self.replaceLinks(
                table: "target_environments", ownerColumn: "target_id", owner: target.id, environmentIDs: target.environmentIDs,
                db)
            try await Self.bumpRevision(spaceID: target.spaceID, db)
            return target
        }
    }

    public func deleteTarget(id: String) async throws {
        try await database.transaction { db in
            try await Self.bumpRevision(ofSpaceOf: "targets", id: id, db)
            try await db.raw("DELETE FROM target_environments WHERE target_id = \(bind: id)").run()
            try await db.raw("DELETE FROM targets WHERE id = \(bind: id)").run()
        }
    }

    static func targetEnvironments(_ targetIDs: [String], _ db: any SQLDatabase) async throws -> [String: [String]] {
        guard !targetIDs.isEmpty else { return [:] }
        var result: [String: [String]] = [:]
        let rows = try await db.select().column("target_id").column("environment_id").from("target_environments")
            .where("target_id", .in, targetIDs).all()
        for row in rows {
            result[try row.string("target_id"), default: []].append(try row.string("environment_id"))
        }
        return result
    }

    static func target(_ row: any SQLRow, environmentIDs: [String: [String]]) throws -> ECSClusterTarget {
        let id = try row.string("id")
        let accountID = try row.optionalString("account_id")
        let assumeRole = try row.optionalString("assume_role").map {
            try JSONDecoder().decode(AssumeRoleSettings.self, from: Data($0.utf8))
        }
        let target = ECSClusterTarget(
            id: id, spaceID: try row.string("space_id"), name: try row.string("name"),
            environmentIDs: (environmentIDs[id] ?? []).sorted(), roles: try row.json("roles", as: [String].self),
            authentication: accountID.map { .account($0) } ?? .workerCredentials, assumeRole: assumeRole,
            region: try row.string("region"), clusterName: try row.string("cluster_name"),
            workerPoolID: try row.string("worker_pool_id"),
            health: TargetHealth(
                status: HealthStatus(rawValue: try row.string("health_status")) ?? .unknown,
                message: try row.optionalString("health_message"), checkedAt: try row.optionalDate("health_checked_at"),
                taskID: try row.optionalString("health_task_id")),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
        return target
    }

    /// The target of `targetListing`'s current row, without its environments (they come one per row).
    static func target(_ row: any RowCursor, id: String) throws -> ECSClusterTarget {
        typealias Column = TargetListingColumn
        let accountID = try row.optionalString(Column.accountID.rawValue)
        let assumeRole = try row.optionalString(Column.assumeRole.rawValue).map {
            try JSONDecoder().decode(AssumeRoleSettings.self, from: Data($0.utf8))
        }
        return ECSClusterTarget(
            id: id, spaceID: try row.string(Column.spaceID.rawValue), name: try row.string(Column.name.rawValue),
            environmentIDs: [], roles: try StoredStringArray.decode(row.string(Column.roles.rawValue)),
            authentication: accountID.map { .account($0) } ?? .workerCredentials, assumeRole: assumeRole,
            region: try row.string(Column.region.rawValue), clusterName: try row.string(Column.clusterName.rawValue),
            workerPoolID: try row.string(Column.workerPoolID.rawValue),
            health: TargetHealth(
                status: HealthStatus(rawValue: try row.string(Column.healthStatus.rawValue)) ?? .unknown,
                message: try row.optionalString(Column.healthMessage.rawValue),
                checkedAt: try row.optionalInt64(Column.healthCheckedAt.rawValue).map(Date.init(unixMilliseconds:)),
                taskID: try row.optionalString(Column.healthTaskID.rawValue)),
            createdAt: Date(unixMilliseconds: try row.int64(Column.createdAt.rawValue)),
            updatedAt: Date(unixMilliseconds: try row.int64(Column.updatedAt.rawValue)))
    }

    static func escapeLike(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "%" || character == "_" || character == "!" { escaped.append("!") }
            escaped.append(character)
        }
        return escaped
    }
}

/// The columns of `targetListing`'s rows, in the order of its select list (which is made from
/// them, so the two cannot drift apart): read by position.
enum TargetListingColumn: Int, CaseIterable {
    case id, spaceID, name, roles, accountID, accountName, assumeRole, region, clusterName, workerPoolID, workerPoolName
    case healthStatus, healthMessage, healthCheckedAt, healthTaskID, createdAt, updatedAt, environmentID, environmentName

    /// The column's expression in the select list: the page subquery's columns, then the environment's.
    var expression: String {
        switch self {
        case .id: "page.id"
        case .spaceID: "page.space_id"
        case .name: "page.name"
        case .roles: "page.roles"
        case .accountID: "page.account_id"
        case .accountName: "page.account_name"
        case .assumeRole: "page.assume_role"
        case .region: "page.region"
        case .clusterName: "page.cluster_name"
        case .workerPoolID: "page.worker_pool_id"
        case .workerPoolName: "page.worker_pool_name"
        case .healthStatus: "page.health_status"
        case .healthMessage: "page.health_message"
        case .healthCheckedAt: "page.health_checked_at"
        case .healthTaskID: "page.health_task_id"
        case .createdAt: "page.created_at"
        case .updatedAt: "page.updated_at"
        case .environmentID: "te.environment_id"
        case .environmentName: "e.name AS environment_name"
        }
    }

    static let selectList = allCases.map(\.expression).joined(separator: ", ")
}
