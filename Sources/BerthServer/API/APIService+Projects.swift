import BerthAPI
import BerthDomain
import BerthEngine
import BerthStore
import BerthUseCases
import Foundation

extension APIService {
    func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        let page = try Paging.page(
            try await useCases.listProjects(space: input.path.space, by: try requester()),
            limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        var items: [Components.Schemas.Project] = []
        for project in page.items { items.append(try await projectSchema(project)) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: page.nextCursor))))
    }

    func getProject(_ input: Operations.GetProject.Input) async throws -> Operations.GetProject.Output {
        let project = try await useCases.project(input.path.project, space: input.path.space, by: try requester())
        return .ok(.init(body: .json(try await projectSchema(project))))
    }

    func createProject(_ input: Operations.CreateProject.Input) async throws -> Operations.CreateProject.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the project as JSON.") }
        let project = try await useCases.createProject(
            name: body.name, description: body.description ?? "", steps: try (body.steps ?? []).map(DeploymentStep.init),
            space: input.path.space, by: try requester())
        return .created(.init(body: .json(try await projectSchema(project))))
    }

    func applyProject(_ input: Operations.ApplyProject.Input) async throws -> Operations.ApplyProject.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the process as JSON.") }
        let project = try await useCases.applyProject(
            input.path.project, description: body.description, steps: try body.steps.map(DeploymentStep.init),
            variables: body.variables?.map(Self.variableInput), lifecycle: body.lifecycle, space: input.path.space,
            by: try requester())
        return .ok(.init(body: .json(try await projectSchema(project))))
    }

    func deleteProject(_ input: Operations.DeleteProject.Input) async throws -> Operations.DeleteProject.Output {
        try await useCases.deleteProject(input.path.project, space: input.path.space, by: try requester())
        return .noContent(.init())
    }

    func listVariables(_ input: Operations.ListVariables.Input) async throws -> Operations.ListVariables.Output {
        let requester = try requester()
        let variables = try await useCases.listVariables(project: input.path.project, space: input.path.space, by: requester)
        let names = try await ScopeNames.load(store: store, spaceID: try await store.space(input.path.space).id)
        let page = try Paging.page(
            variables, limit: try Paging.limit(input.query.limit, default: 1000), after: input.query.after, id: \.id)
        let items = page.items.map { Components.Schemas.Variable($0, names: names) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: page.nextCursor))))
    }

    func setVariable(_ input: Operations.SetVariable.Input) async throws -> Operations.SetVariable.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the variable as JSON.") }
        let stored = try await useCases.setVariable(
            Self.variableInput(body), project: input.path.project, space: input.path.space, by: try requester())
        let names = try await ScopeNames.load(store: store, spaceID: try await store.space(input.path.space).id)
        return .ok(.init(body: .json(.init(stored, names: names))))
    }

    /// A project as the API answers it, with its lifecycle's name.
    func projectSchema(_ project: Project) async throws -> Components.Schemas.Project {
        let lifecycle = try await project.lifecycleID.asyncFlatMap { try await store.lifecycle(id: $0) }
        let names = try await environmentNames(spaceID: project.spaceID)
        var named = project
        named.steps = project.steps.map { $0.mappingEnvironments { names[$0] ?? $0 } }
        return try Components.Schemas.Project(named, lifecycleName: lifecycle?.name)
    }

    static func variableInput(_ input: Components.Schemas.VariableInput) -> UseCases.VariableInput {
        UseCases.VariableInput(
            name: input.name, kind: input._type.flatMap { ProjectVariable.Kind(rawValue: $0.rawValue) } ?? .text,
            value: input.value, environments: input.scope?.environments ?? [], roles: input.scope?.roles ?? [],
            targets: input.scope?.targets ?? [])
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
        self.init(
            name: step.name, kind: kind, targetRoles: step.targetRoles ?? [], properties: properties,
            environments: step.environments, excludeEnvironments: step.excludeEnvironments)
    }
}

extension Components.Schemas.Step {
    init(_ step: DeploymentStep) throws {
        let properties = try JSONDecoder().decode(
            Components.Schemas.Step.PropertiesPayload.self, from: Data(step.properties.rendered().utf8))
        self.init(
            name: step.name, _type: .init(rawValue: step.kind.rawValue) ?? .runAwsCliScript, targetRoles: step.targetRoles,
            environments: step.environments, excludeEnvironments: step.excludeEnvironments, properties: properties)
    }
}

extension Components.Schemas.Project {
    init(_ project: Project, lifecycleName: String?) throws {
        self.init(
            id: project.id, name: project.name, slug: project.slug, description: project.description,
            steps: try project.steps.map(Components.Schemas.Step.init), lifecycle: lifecycleName, createdAt: project.createdAt,
            updatedAt: project.updatedAt)
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

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
