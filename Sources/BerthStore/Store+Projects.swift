import BerthDomain
import Foundation
import SQLKit

extension BerthStore {
    public func listProjects(spaceID: String) async throws -> [Project] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM projects WHERE space_id = \(bind: spaceID) ORDER BY name").all().map(Self.project)
        }
    }

    public func findProject(_ reference: String, spaceID: String) async throws -> Project? {
        try await database.withConnection { db in try await Self.findProject(reference, spaceID: spaceID, db) }
    }

    public func project(_ reference: String, spaceID: String) async throws -> Project {
        guard let project = try await findProject(reference, spaceID: spaceID) else {
            throw BerthError.notFound("project", reference)
        }
        return project
    }

    public func project(id: String) async throws -> Project? {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM projects WHERE id = \(bind: id)").first().map(Self.project)
        }
    }

    public func createProject(_ project: Project) async throws -> Project {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a project", name: project.name)) { db in
            try await Self.insertProject(project, db)
            return project
        }
    }

    /// Creates the project or replaces its description and process, and — when `variables` is not
    /// nil — every variable, in one transaction.
    public func applyProject(_ project: Project, variables: [ProjectVariable]?) async throws -> Project {
        try await database.transaction(orIfDuplicate: Self.nameTaken(kind: "a project", name: project.name)) { db in
            let exists = try await db.raw("SELECT id FROM projects WHERE id = \(bind: project.id)").first() != nil
            if exists {
                try await db.raw(
                    """
                    UPDATE projects SET description = \(bind: project.description), steps = \(bind: jsonText(project.steps)), \
                    lifecycle_id = \(bind: project.lifecycleID), updated_at = \(bind: project.updatedAt.unixMilliseconds) \
                    WHERE id = \(bind: project.id)
                    """
                ).run()
            } else {
                try await Self.insertProject(project, db)
            }
            if let variables {
                try await db.raw("DELETE FROM project_variables WHERE project_id = \(bind: project.id)").run()
                for (position, variable) in variables.enumerated() {
                    try await Self.insertVariable(variable, position: position, db)
                }
            }
            return project
        }
    }

    /// Deletes the project, its variables, releases and deployments; refused while a deployment of
    /// it is queued or executing.
    public func deleteProject(id: String) async throws {
        try await database.transaction { db in
            let running = try await db.raw(
                """
                SELECT d.id FROM deployments d JOIN tasks t ON t.id = d.task_id \
                WHERE d.project_id = \(bind: id) AND t.state IN ('queued', 'executing')
                """
            ).first()
            if running != nil {
                throw BerthError(
                    .conflict, "The project has a deployment that is still running; cancel it or let it finish first.")
            }
            try await db.raw("DELETE FROM deployments WHERE project_id = \(bind: id)").run()
            try await db.raw("DELETE FROM releases WHERE project_id = \(bind: id)").run()
            try await db.raw("DELETE FROM project_variables WHERE project_id = \(bind: id)").run()
            try await db.raw("DELETE FROM projects WHERE id = \(bind: id)").run()
        }
    }

    public func variables(projectID: String) async throws -> [ProjectVariable] {
        try await database.withConnection { db in
            try await db.raw("SELECT * FROM project_variables WHERE project_id = \(bind: projectID) ORDER BY position, id").all()
                .map(Self.variable)
        }
    }

    /// Replaces the value of the variable with the same name and exactly the same scope, or adds
    /// the variable after the others.
    public func setVariable(_ variable: ProjectVariable) async throws -> ProjectVariable {
        try await database.transaction { db in
            let rows = try await db.raw("SELECT * FROM project_variables WHERE project_id = \(bind: variable.projectID)").all()
            let existing = try rows.map(Self.variable)
            if let same = existing.first(where: {
                $0.name.lowercased() == variable.name.lowercased() && $0.scope == variable.scope
            }) {
                var stored = variable
                stored.id = same.id
                try await db.raw(
                    """
                    UPDATE project_variables SET name = \(bind: stored.name), kind = \(bind: stored.kind.rawValue), \
                    value = \(bind: stored.value), sealed_value = \(bind: stored.sealedValue?.ciphertext) \
                    WHERE id = \(bind: same.id)
                    """
                ).run()
                return stored
            }
            let last = try await db.raw(
                "SELECT MAX(position) AS last FROM project_variables WHERE project_id = \(bind: variable.projectID)"
            ).first()
            let position = Int(try last?.decode(column: "last", as: Int64?.self) ?? -1) + 1
            try await Self.insertVariable(variable, position: position, db)
            return variable
        }
    }

    static func insertVariable(_ variable: ProjectVariable, position: Int, _ db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO project_variables (id, project_id, position, name, kind, value, sealed_value, scope) VALUES \
            (\(bind: variable.id), \(bind: variable.projectID), \(bind: Int64(position)), \(bind: variable.name), \
            \(bind: variable.kind.rawValue), \(bind: variable.value), \(bind: variable.sealedValue?.ciphertext), \
            \(bind: jsonText(variable.scope)))
            """
        ).run()
    }

    static func findProject(_ reference: String, spaceID: String, _ db: any SQLDatabase) async throws -> Project? {
        let (id, slug) = referenceClause(reference)
        return try await db.raw(
            "SELECT * FROM projects WHERE space_id = \(bind: spaceID) AND (id = \(bind: id) OR slug = \(bind: slug))"
        ).first().map(Self.project)
    }

    static func project(_ row: any SQLRow) throws -> Project {
        Project(
            id: try row.string("id"), spaceID: try row.string("space_id"), name: try row.string("name"),
            description: try row.string("description"), steps: try row.json("steps", as: [DeploymentStep].self),
            lifecycleID: try row.optionalString("lifecycle_id"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"))
    }

    static func variable(_ row: any SQLRow) throws -> ProjectVariable {
        let id = try row.string("id")
        guard let kind = ProjectVariable.Kind(rawValue: try row.string("kind")) else {
            throw BerthError(.internalError, "The variable \(id) has an unknown type in the database.")
        }
        return ProjectVariable(
            id: id, projectID: try row.string("project_id"), name: try row.string("name"), kind: kind,
            value: try row.optionalString("value"), sealedValue: try row.optionalString("sealed_value").map(SealedSecret.init),
            scope: try row.json("scope", as: VariableScope.self))
    }

    /// Inserts a new project after checking that its name is free in its space.
    static func insertProject(_ project: Project, _ db: any SQLDatabase) async throws {
        try await ensureNameIsFree("projects", kind: "a project", name: project.name, spaceID: project.spaceID, db)
        try await db.raw(
            """
            INSERT INTO projects (id, space_id, name, slug, description, steps, lifecycle_id, created_at, updated_at) VALUES \
            (\(bind: project.id), \(bind: project.spaceID), \(bind: project.name), \(bind: project.slug), \
            \(bind: project.description), \(bind: jsonText(project.steps)), \(bind: project.lifecycleID), \
            \(bind: project.createdAt.unixMilliseconds), \(bind: project.updatedAt.unixMilliseconds))
            """
        ).run()
    }
}
