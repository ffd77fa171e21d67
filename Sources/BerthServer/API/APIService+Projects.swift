import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import BerthWorker
import Foundation

extension APIService {
    func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        let space = try await space(input.path.space)
        let visible = try await store.listProjects(spaceID: space.id).filter { Self.may(.projectView, $0) }
        let page = try Paging.page(
            visible, limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        return .ok(.init(body: .json(.init(items: try page.items.map { try .init($0) }, nextCursor: page.nextCursor))))
    }

    func getProject(_ input: Operations.GetProject.Input) async throws -> Operations.GetProject.Output {
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.projectView, project)
        return .ok(.init(body: .json(try .init(project))))
    }

    func createProject(_ input: Operations.CreateProject.Input) async throws -> Operations.CreateProject.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the project as JSON.") }
        let space = try await space(input.path.space)
        let steps = try (body.steps ?? []).map(DeploymentStep.init)
        let project = Project(
            spaceID: space.id, name: body.name, description: body.description ?? "", steps: steps, createdAt: now())
        try Self.requireProjectEdit(space: space, project: nil, steps: steps, earlier: [])
        try project.validate()
        try StepValidation.validate(steps)
        return .created(.init(body: .json(try .init(try await store.createProject(project)))))
    }

    func applyProject(_ input: Operations.ApplyProject.Input) async throws -> Operations.ApplyProject.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the process as JSON.") }
        let space = try await space(input.path.space)
        let steps = try body.steps.map(DeploymentStep.init)
        let existing = try await store.findProject(input.path.project, spaceID: space.id)
        var project = existing ?? Project(spaceID: space.id, name: input.path.project, createdAt: now())
        try Self.requireProjectEdit(space: space, project: existing, steps: steps, earlier: existing?.steps ?? [])
        if body.variables != nil {
            try Access.require(
                .variableEdit, at: AccessScope(spaceID: space.id, projectID: existing?.id),
                for: "the project '\(project.name)'")
        }
        project.steps = steps
        project.description = body.description ?? project.description
        project.updatedAt = now()
        try project.validate()
        try StepValidation.validate(steps)
        var variables: [ProjectVariable]?
        if let inputs = body.variables {
            let existing = try await store.variables(projectID: project.id)
            var made: [ProjectVariable] = []
            var errors = ValidationErrors()
            for (index, variableInput) in inputs.enumerated() {
                do {
                    made.append(try await variable(from: variableInput, project: project, existing: existing))
                } catch let error as BerthError {
                    for detail in error.details.isEmpty ? [.init(field: "", message: error.message)] : error.details {
                        errors.add("variables[\(index)]" + (detail.field.isEmpty ? "" : ".\(detail.field)"), detail.message)
                    }
                }
            }
            try errors.throwIfAny("project")
            variables = made
        }
        return .ok(.init(body: .json(try .init(try await store.applyProject(project, variables: variables)))))
    }

    func deleteProject(_ input: Operations.DeleteProject.Input) async throws -> Operations.DeleteProject.Output {
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.projectEdit, project)
        try await store.deleteProject(id: project.id)
        return .noContent(.init())
    }

    func listVariables(_ input: Operations.ListVariables.Input) async throws -> Operations.ListVariables.Output {
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.projectView, project)
        let names = try await ScopeNames.load(store: store, spaceID: space.id)
        let page = try Paging.page(
            try await store.variables(projectID: project.id), limit: try Paging.limit(input.query.limit, default: 1000),
            after: input.query.after, id: \.id)
        let items = page.items.map { Components.Schemas.Variable($0, names: names) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: page.nextCursor))))
    }

    func setVariable(_ input: Operations.SetVariable.Input) async throws -> Operations.SetVariable.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the variable as JSON.") }
        let space = try await space(input.path.space)
        let project = try await store.project(input.path.project, spaceID: space.id)
        try Self.require(.variableEdit, project)
        let made = try await variable(from: body, project: project, existing: [])
        guard made.kind != .sensitive || made.sealedValue != nil else {
            throw BerthError.invalid("variable", [.init(field: "value", message: "a sensitive variable needs a value")])
        }
        let stored = try await store.setVariable(made)
        return .ok(.init(body: .json(.init(stored, names: try await ScopeNames.load(store: store, spaceID: space.id)))))
    }

    /// A variable from its API form: scope names resolved to ids, account names to ids, sensitive
    /// values sealed. A sensitive variable sent without a value keeps the value stored under the
    /// same name and scope in `existing`.
    func variable(
        from input: Components.Schemas.VariableInput, project: Project, existing: [ProjectVariable]
    ) async throws -> ProjectVariable {
        var errors = ValidationErrors()
        ProjectVariable.validateName(input.name, into: &errors)
        let kind = input._type.flatMap { ProjectVariable.Kind(rawValue: $0.rawValue) } ?? .text
        var scope = VariableScope()
        if let environments = input.scope?.environments, !environments.isEmpty {
            scope.environmentIDs = try await resolveEnvironments(
                environments, spaceID: project.spaceID, field: "scope.environments"
            )
            .map(\.id)
        }
        scope.roles = input.scope?.roles ?? []
        for reference in input.scope?.targets ?? [] {
            if let target = try await store.findTarget(reference, spaceID: project.spaceID) {
                scope.targetIDs.append(target.id)
            } else {
                errors.add("scope.targets", "there is no target '\(reference)'")
            }
        }
        var variable = ProjectVariable(projectID: project.id, name: input.name, kind: kind, value: nil, scope: scope)
        switch kind {
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
            } else if let kept = existing.first(where: {
                $0.kind == .sensitive && $0.name.lowercased() == input.name.lowercased() && $0.scope == scope
            }) {
                variable.id = kept.id
                variable.sealedValue = kept.sealedValue
            } else {
                errors.add("value", "the sensitive variable '\(input.name)' has no stored value to keep; give one")
            }
        }
        try errors.throwIfAny("variable")
        return variable
    }
}

/// Ids of environments and targets → names, for answers.
struct ScopeNames {
    var environments: [String: String]
    var targets: [String: String]

    static func load(store: BerthStore, spaceID: String) async throws -> ScopeNames {
        ScopeNames(
            environments: Dictionary(
                uniqueKeysWithValues: try await store.listEnvironments(spaceID: spaceID).map { ($0.id, $0.name) }),
            targets: Dictionary(uniqueKeysWithValues: try await store.allTargets(spaceID: spaceID).map { ($0.id, $0.name) }))
    }
}

extension DeploymentStep {
    init(_ step: Components.Schemas.StepInput) throws {
        let properties: JSONValue
        if let payload = step.properties {
            let data = try JSONEncoder().encode(payload.additionalProperties)
            properties = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        } else {
            properties = .object([])
        }
        guard let kind = DeploymentStep.Kind(rawValue: step._type.rawValue) else {
            throw BerthError.invalid("process", [.init(field: "type", message: "'\(step._type.rawValue)' is not a step type")])
        }
        self.init(name: step.name, kind: kind, targetRoles: step.targetRoles ?? [], properties: properties)
    }
}

extension Components.Schemas.Step {
    init(_ step: DeploymentStep) throws {
        let properties = try JSONDecoder().decode(
            Components.Schemas.Step.PropertiesPayload.self, from: Data(step.properties.rendered().utf8))
        self.init(
            name: step.name, _type: .init(rawValue: step.kind.rawValue) ?? .runAwsCliScript, targetRoles: step.targetRoles,
            properties: properties)
    }
}

extension Components.Schemas.Project {
    init(_ project: Project) throws {
        self.init(
            id: project.id, name: project.name, slug: project.slug, description: project.description,
            steps: try project.steps.map(Components.Schemas.Step.init), createdAt: project.createdAt, updatedAt: project.updatedAt
        )
    }
}

extension Components.Schemas.Variable {
    init(_ variable: ProjectVariable, names: ScopeNames) {
        self.init(
            id: variable.id, name: variable.name, _type: .init(rawValue: variable.kind.rawValue) ?? .text,
            value: variable.kind == .sensitive ? nil : variable.value,
            secret: variable.kind == .sensitive ? .init(hasValue: variable.sealedValue != nil) : nil,
            scope: .init(
                environments: variable.scope.environmentIDs.map { names.environments[$0] ?? $0 }, roles: variable.scope.roles,
                targets: variable.scope.targetIDs.map { names.targets[$0] ?? $0 }))
    }
}
