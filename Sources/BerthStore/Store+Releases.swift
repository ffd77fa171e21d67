import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    /// Records a release; a second release with the same version of a project is a conflict.
    public func createRelease(_ release: Release) async throws -> Release {
        try await database.transaction(orIfDuplicate: Self.releaseExists(release.version)) { db in
            let existing = try await db.raw(
                "SELECT id FROM releases WHERE project_id = \(bind: release.projectID) AND version = \(bind: release.version)"
            ).first()
            if existing != nil {
                throw Self.releaseExists(release.version)
            }
            try await db.raw(
                """
                INSERT INTO releases (id, space_id, project_id, version, snapshot, created_at) VALUES \
                (\(bind: release.id), \(bind: release.spaceID), \(bind: release.projectID), \(bind: release.version), \
                \(bind: jsonText(release.snapshot)), \(bind: release.createdAt.unixMilliseconds))
                """
            ).run()
            return release
        }
    }

    /// Newest first; with `after`, those listed after that release.
    public func releases(projectID: String, limit: Int = 100, after: String? = nil) async throws -> [Release] {
        try await database.withConnection { db in
            var query = SQLQueryString("SELECT * FROM releases WHERE project_id = \(bind: projectID)")
            if let after {
                query += """
                     AND (created_at < (SELECT created_at FROM releases WHERE id = \(bind: after)) \
                    OR (created_at = (SELECT created_at FROM releases WHERE id = \(bind: after)) AND id > \(bind: after)))
                    """
            }
            query += " ORDER BY created_at DESC, id LIMIT \(bind: Int64(limit))"
            return try await db.raw(query).all().map(Self.release)
        }
    }

    /// A release by id or version.
    public func release(_ reference: String, projectID: String) async throws -> Release {
        let found = try await database.withConnection { db in
            try await db.raw(
                """
                SELECT * FROM releases WHERE project_id = \(bind: projectID) \
                AND (id = \(bind: reference) OR version = \(bind: reference))
                """
            ).first().map(Self.release)
        }
        guard let found else { throw BerthError.notFound("release", reference) }
        return found
    }

    public func release(id: String) async throws -> Release? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM releases WHERE id = \(bind: id)").first().map(Self.release)
        }
    }

    static func release(_ row: any SQLRow) throws -> Release {
        Release(
            id: try row.string("id"), spaceID: try row.string("space_id"), projectID: try row.string("project_id"),
            version: try row.string("version"), snapshot: try row.json("snapshot", as: ReleaseSnapshot.self),
            createdAt: try row.date("created_at"))
    }

    static func releaseExists(_ version: String) -> BerthError {
        BerthError(.conflict, "The project already has a release \(version); releases are immutable, use a new version.")
    }
}
