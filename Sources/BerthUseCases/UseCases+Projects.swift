import BerthDomain
import BerthStore
import BerthWorker
import Foundation

/// Projects: their process (steps) and their variables.
extension UseCases {
    /// A variable as a person gives it: scope and account by name or id, a sensitive value in
    /// clear (sealed before it reaches the store).
    public struct VariableInput: Sendable {
        public var name: String
        public var kind: ProjectVariable.Kind
        /// Text; an account's name or id; a sensitive value (nil: keep the stored one).
        public var value: String?
        public var environments: [String]
        public var roles: [String]
        public var targets: [String]

        public init(
            name: String, kind: ProjectVariable.Kind = .text, value: String?, environments: [String] = [],
            roles: [String] = [], targets: [String] = []
        ) {
            self.name = name
            self.kind = kind
            self.value = value
            self.environments = environments
            self.roles = roles
            self.targets = targets
        }
    }

    /// The projects of the space that the requester may view.
    public func listProjects(space reference: String, by requester: Requester) async throws -> [Project] {
        let space = try await space(reference, needing: .projectView, by: requester)
        return try await store.listProjects(spaceID: space.id).filter {
            requester.may(.projectView, at: AccessScope(spaceID: space.id, projectID: $0.id))
        }
    }

    /// The project, with the requester holding `permission` for it.
    public func project(
        _ reference: String, space spaceReference: String, needing permission: Permission = .projectView,
        by requester: Requester
    ) async throws -> Project {
        let space = try await space(spaceReference, needing: permission, by: requester)
        let project = try await store.project(reference, spaceID: space.id)
        try requester.require(permission, for: project)
        return project
    }

    public func createProject(
        name: String, description: String, steps: [DeploymentStep], space reference: String, by requester: Requester
    ) async throws -> Project {
        let space = try await space(reference, needing: .projectEdit, by: requester)
        let steps = try await resolvingStepConditions(steps, spaceID: space.id)
        let project = Project(spaceID: space.id, name: name, description: description, steps: steps, createdAt: now())
        try requireProjectEdit(space: space, project: nil, steps: steps, earlier: [], by: requester)
        try project.validate()
        try StepValidation.validate(steps)
        return try await audited("createProject", before: nil, after: project, by: requester) {
            try await store.createProject(project)
        }
    }

    /// Creates the project named `reference` or replaces its process and description, and — when
    /// `variables` is not nil — all its variables, in one change.
    /// `lifecycle`: a lifecycle's name or id, "" for none, nil to leave it as it is.
    public func applyProject(
        _ reference: String, description: String?, steps: [DeploymentStep], variables inputs: [VariableInput]?,
        lifecycle: String? = nil, space spaceReference: String, by requester: Requester
    ) async throws -> Project {
        let space = try await space(spaceReference, needing: .projectEdit, by: requester)
        let steps = try await resolvingStepConditions(steps, spaceID: space.id)
        let existing = try await store.findProject(reference, spaceID: space.id)
        var project = existing ?? Project(spaceID: space.id, name: reference, createdAt: now())
        try requireProjectEdit(space: space, project: existing, steps: steps, earlier: existing?.steps ?? [], by: requester)
        if inputs != nil {
            try requester.require(
                .variableEdit, at: AccessScope(spaceID: space.id, projectID: existing?.id), for: "the project '\(project.name)'")
        }
        project.steps = steps
        project.description = description ?? project.description
        if let lifecycle {
            if lifecycle.trimmingCharacters(in: .whitespaces).isEmpty {
                project.lifecycleID = nil
            } else if let found = try await store.findLifecycle(lifecycle, spaceID: space.id) {
                project.lifecycleID = found.id
            } else {
                let known = try await store.listLifecycles(spaceID: space.id).map(\.name).joined(separator: ", ")
                throw BerthError.invalid(
                    "project",
                    [
                        .init(
                            field: "lifecycle",
                            message: "there is no lifecycle '\(lifecycle)' (known: \(known.isEmpty ? "none yet" : known))")
                    ])
            }
        }
        project.updatedAt = now()
        try project.validate()
        try StepValidation.validate(steps)
        var variables: [ProjectVariable]?
        var also: [(String, JSONValue)] = []
        if let inputs {
            let stored = existing == nil ? [] : try await store.variables(projectID: project.id)
            var made: [ProjectVariable] = []
            var errors = ValidationErrors()
            for (index, input) in inputs.enumerated() {
                do {
                    made.append(try await variable(from: input, project: project, existing: stored))
                } catch let error as BerthError {
                    for detail in error.details.isEmpty ? [.init(field: "", message: error.message)] : error.details {
                        errors.add("variables[\(index)]" + (detail.field.isEmpty ? "" : ".\(detail.field)"), detail.message)
                    }
                }
            }
            try errors.throwIfAny("project")
            variables = made
            also.append(("variables", Self.variableChanges(from: stored, to: made)))
        }
        return try await audited("applyProject", before: existing, after: project, also: also, by: requester) {
            try await store.applyProject(project, variables: variables)
        }
    }

    public func deleteProject(_ reference: String, space spaceReference: String, by requester: Requester) async throws {
        let project = try await project(reference, space: spaceReference, needing: .projectEdit, by: requester)
        try await audited("deleteProject", before: project, after: nil, by: requester) {
            try await store.deleteProject(id: project.id)
        }
    }

    public func listVariables(project reference: String, space spaceReference: String, by requester: Requester) async throws
        -> [ProjectVariable]
    {
        let project = try await project(reference, space: spaceReference, by: requester)
        return try await store.variables(projectID: project.id)
    }

    /// Sets the value of the variable with the same name and scope, or adds it.
    public func setVariable(
        _ input: VariableInput, project reference: String, space spaceReference: String, by requester: Requester
    ) async throws -> ProjectVariable {
        let project = try await project(reference, space: spaceReference, needing: .variableEdit, by: requester)
        guard input.kind != .sensitive || input.value != nil else {
            throw BerthError.invalid("variable", [.init(field: "value", message: "a sensitive variable needs a value")])
        }
        let stored = try await store.variables(projectID: project.id)
        // The variable it replaces keeps its id: a sensitive value is sealed for that id.
        let made = try await variable(from: input, project: project, existing: stored)
        let before = stored.first { $0.id == made.id }
        return try await audited("setVariable", before: before, after: made, by: requester) {
            try await store.setVariable(made)
        }
    }

    /// `steps` with their conditions' environments as ids (stored so, a renamed environment keeps
    /// its steps). - Throws: a validation error naming every environment the space does not have,
    /// and every responsible team of a manual intervention that does not exist.
    func resolvingStepConditions(_ steps: [DeploymentStep], spaceID: String) async throws -> [DeploymentStep] {
        try await requireStepEnvironmentsExist(steps, spaceID: spaceID)
        let known = try await store.listEnvironments(spaceID: spaceID)
        return steps.map { step in
            step.mappingEnvironments { entry in known.first { $0.id == entry || $0.slug == Slug.make(entry) }?.id ?? entry }
        }
    }

    func requireStepEnvironmentsExist(_ steps: [DeploymentStep], spaceID: String) async throws {
        let known = try await store.listEnvironments(spaceID: spaceID)
        let teams = Set(try await store.listTeams().map(\.name).map(Slug.make))
        var errors = ValidationErrors()
        for (index, step) in steps.enumerated() {
            if step.kind == .manualIntervention, case .array(let names)? = step.properties["responsibleTeams"] {
                for case .string(let name) in names where !teams.contains(Slug.make(name)) {
                    errors.add(
                        "steps[\(index)].properties.responsibleTeams",
                        "there is no team '\(name)': nobody could answer the step '\(step.name)'")
                }
            }
            for (field, names) in [
                ("environments", step.environments ?? []), ("excludeEnvironments", step.excludeEnvironments ?? []),
            ] {
                for name in names where !known.contains(where: { $0.id == name || $0.slug == Slug.make(name) }) {
                    errors.add(
                        "steps[\(index)].\(field)",
                        "there is no environment '\(name)' (known: \(known.map(\.name).joined(separator: ", ")))")
                }
            }
        }
        try errors.throwIfAny("project")
    }

    /// Editing a project needs ProjectEdit for it (for a new one: for every project of the space);
    /// adding or changing a Run AWS CLI script step needs ScriptStepEdit too: it is the power to run
    /// code with the project's credentials.
    func requireProjectEdit(
        space: Space, project: Project?, steps: [DeploymentStep], earlier: [DeploymentStep], by requester: Requester
    ) throws {
        let scope = AccessScope(spaceID: space.id, projectID: project?.id)
        let place = project.map { "the project '\($0.name)'" } ?? "new projects in the space '\(space.name)'"
        try requester.require(.projectEdit, at: scope, for: place)
        let scripts = Set(earlier.filter { $0.kind == .awsCLIScript })
        if steps.contains(where: { $0.kind == .awsCLIScript && !scripts.contains($0) }) {
            try requester.require(.scriptStepEdit, at: scope, for: "script steps of \(place)")
        }
    }

    /// A variable from its input: scope names resolved to ids, account names to ids, sensitive
    /// values sealed. A sensitive variable given without a value keeps the value stored under the
    /// same name and scope in `existing`.
    func variable(from input: VariableInput, project: Project, existing: [ProjectVariable]) async throws -> ProjectVariable {
        var errors = ValidationErrors()
        ProjectVariable.validateName(input.name, into: &errors)
        var scope = VariableScope()
        if !input.environments.isEmpty {
            scope.environmentIDs = try await resolveEnvironments(
                input.environments, spaceID: project.spaceID, field: "scope.environments"
            ).map(\.id)
        }
        scope.roles = input.roles
        for reference in input.targets {
            if let target = try await store.findTarget(reference, spaceID: project.spaceID) {
                scope.targetIDs.append(target.id)
            } else {
                errors.add("scope.targets", "there is no target '\(reference)'")
            }
        }
        var variable = ProjectVariable(projectID: project.id, name: input.name, kind: input.kind, value: nil, scope: scope)
        // The same name and scope is the same variable: it keeps its id (a sensitive value is sealed for it).
        if let same = existing.first(where: { $0.name.lowercased() == input.name.lowercased() && $0.scope == scope }) {
            variable.id = same.id
        }
        switch input.kind {
        case .text:
            variable.value = input.value ?? ""
        case .awsAccount:
            if let reference = input.value, let account = try await store.findAccount(reference, spaceID: project.spaceID) {
                variable.value = account.id
            } else {
                errors.add("value", "there is no AWS account '\(input.value ?? "")' for the account variable '\(input.name)'")
            }
        case .sensitive:
            if let value = input.value {
                variable.sealedValue = try secrets.seal(value, for: .projectVariable(variableID: variable.id))
            } else if let kept = existing.first(where: { $0.id == variable.id && $0.kind == .sensitive }) {
                variable.sealedValue = kept.sealedValue
            } else {
                errors.add("value", "the sensitive variable '\(input.name)' has no stored value to keep; give one")
            }
        }
        try errors.throwIfAny("variable")
        return variable
    }

    /// What replacing `old` variables by `new` ones changes, by name and scope: each variable
    /// added, changed or removed with its fields' changes (sensitive values only as "(changed)").
    static func variableChanges(from old: [ProjectVariable], to new: [ProjectVariable]) -> JSONValue {
        func key(_ variable: ProjectVariable) -> String {
            let scope = variable.scope
            let parts = scope.environmentIDs.sorted() + scope.roles.sorted() + scope.targetIDs.sorted()
            return variable.name.lowercased() + (parts.isEmpty ? "" : " [\(parts.joined(separator: ","))]")
        }
        let before = Dictionary(old.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [(String, JSONValue)] = []
        for name in (Set(before.keys).union(after.keys)).sorted() {
            let was = before[name]
            let now = after[name]
            let diff = AuditChanges.between(was?.auditFields, now?.auditFields)
            if case .object(let members) = diff, members.isEmpty { continue }
            changes.append((name, diff))
        }
        return .object(changes)
    }
}
