import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// The project's process and variables edited in the browser as the document `berth project
/// apply` takes; validation errors are listed by field, and the edited text is kept.
extension WebUI {
    func projectEditor(_ visit: Visit) async throws -> Response {
        let spaceReference = try visit.parameter("space")
        let project = try await useCases.project(
            try visit.parameter("project"), space: spaceReference, needing: .projectEdit, by: visit.requester)
        let store = useCases.store
        let variables = try await useCases.listVariables(project: project.id, space: spaceReference, by: visit.requester)
        let document = try ProjectDocument.yaml(
            project, variables: variables,
            environments: Dictionary(
                uniqueKeysWithValues: try await store.listEnvironments(spaceID: project.spaceID).map { ($0.id, $0.name) }),
            targets: Dictionary(
                uniqueKeysWithValues: try await store.allTargets(spaceID: project.spaceID).map { ($0.id, $0.name) }),
            accounts: Dictionary(
                uniqueKeysWithValues: try await store.listAccounts(spaceID: project.spaceID).map { ($0.id, $0.name) }),
            lifecycle: try await project.lifecycleID.asyncFlatMap { try await store.lifecycle(id: $0) }?.name)
        return try await editor(visit, project: project, text: document, errors: [])
    }

    func saveProject(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let spaceReference = try visit.parameter("space")
        let project = try await useCases.project(
            try visit.parameter("project"), space: spaceReference, needing: .projectEdit, by: visit.requester)
        let text = form.fields.first { $0.name == "document" }?.value ?? ""
        do {
            let document = try ProjectDocument.read(text)
            // Without VariableEdit the variables are shown, not changed: the process alone is applied.
            let mayEditVariables = visit.requester.may(
                .variableEdit, at: AccessScope(spaceID: project.spaceID, projectID: project.id))
            _ = try await useCases.applyProject(
                project.name, description: document.description, steps: document.steps,
                variables: mayEditVariables ? document.variables : nil, lifecycle: document.lifecycle, space: spaceReference,
                by: visit.requester)
        } catch let error as BerthError where error.code == .validationFailed || error.code == .badRequest {
            let errors = error.details.isEmpty ? [BerthError.FieldError(field: "", message: error.message)] : error.details
            return try await editor(visit, project: project, text: text, errors: errors, status: .init(code: 422))
        }
        return Self.redirect(try await projectURL(visit, project))
    }

    func editor(
        _ visit: Visit, project: Project, text: String, errors: [BerthError.FieldError], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        try render(
            "project-edit",
            [
                "csrf": visit.csrf, "name": project.name, "document": text,
                "projectURL": try await projectURL(visit, project),
                "variablesReadOnly": !visit.requester.may(
                    .variableEdit, at: AccessScope(spaceID: project.spaceID, projectID: project.id)),
                "hasErrors": !errors.isEmpty,
                "errors": errors.map { ["field": $0.field.isEmpty ? "project" : $0.field, "message": $0.message] },
            ], title: "Edit \(project.name)", visit: visit, status: status)
    }

    /// The project's page, from the slugs (never from the path of the request).
    func projectURL(_ visit: Visit, _ project: Project) async throws -> String {
        let space = try await useCases.store.space(try visit.parameter("space"))
        return "/spaces/\(Self.segment(space.slug))/projects/\(Self.segment(project.slug))"
    }
}
