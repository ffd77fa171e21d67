import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// The dashboard (projects × environments) and a project's page: its process, variables and
/// releases, with the forms to release, deploy and set a variable.
extension WebUI {
    func dashboard(_ visit: Visit) async throws -> Response {
        let requester = visit.requester
        let reference = try visit.parameter("space")
        let environments = try await useCases.listEnvironments(space: reference, by: requester)
        let space = try await useCases.store.space(reference)
        let projects = try await useCases.listProjects(space: reference, by: requester)
        let latest = try await useCases.listDeployments(
            space: reference, project: nil, environment: nil,
            filter: BerthStore.DeploymentFilter(latestOnly: true, limit: 10_000), by: requester
        ).visible
        let byCell = Dictionary(
            latest.map { ("\($0.deployment.projectID)/\($0.deployment.environmentID)", $0) }, uniquingKeysWith: { a, _ in a })
        let rows: [[String: Any]] = projects.map { project in
            [
                "name": project.name, "url": "/spaces/\(Self.segment(space.slug))/projects/\(Self.segment(project.slug))",
                "cells": environments.map { environment -> [String: Any] in
                    guard let deployment = byCell["\(project.id)/\(environment.id)"] else { return ["empty": true] }
                    // Every key the cell's template asks for is here: a missing one is looked
                    // for in the row and the page around it, which costs time on a large grid.
                    return [
                        "empty": false, "version": deployment.releaseVersion, "state": deployment.state.phrase,
                        "stateClass": deployment.state.rawValue,
                        "when": Self.time(deployment.completedAt ?? deployment.deployment.createdAt),
                        "by": deployment.deployedBy ?? "", "url": "/tasks/\(deployment.deployment.taskID)",
                    ]
                },
            ]
        }
        let spaces = try await useCases.listSpaces(by: requester).map {
            ["name": $0.name, "url": "/spaces/\(Self.segment($0.slug))", "current": $0.id == space.id] as [String: Any]
        }
        return try render(
            "dashboard",
            [
                "space": space.name, "spaces": spaces, "environments": environments.map { ["name": $0.name] }, "rows": rows,
                "empty": projects.isEmpty, "infrastructureURL": "/spaces/\(Self.segment(space.slug))/infrastructure",
            ], title: "Dashboard · \(space.name)", visit: visit)
    }

    func projectPage(_ visit: Visit) async throws -> Response {
        let requester = visit.requester
        let spaceReference = try visit.parameter("space")
        let project = try await useCases.project(try visit.parameter("project"), space: spaceReference, by: requester)
        let space = try await useCases.store.space(spaceReference)
        let environments = try await useCases.store.listEnvironments(spaceID: space.id)
        let environmentNames = Dictionary(uniqueKeysWithValues: environments.map { ($0.id, $0.name) })
        let variables = try await useCases.listVariables(project: project.id, space: spaceReference, by: requester)
        let releases = try await useCases.listReleases(
            project: project.id, space: spaceReference, limit: 20, after: nil, by: requester
        ).releases
        let scope = { (environmentID: String?) in
            AccessScope(spaceID: space.id, projectID: project.id, environmentID: environmentID)
        }
        let deployable = environments.filter { requester.may(.deploymentCreate, at: scope($0.id)) }
        let base = "/spaces/\(Self.segment(space.slug))/projects/\(Self.segment(project.slug))"
        return try render(
            "project",
            [
                "csrf": visit.csrf, "space": space.name, "spaceURL": "/spaces/\(Self.segment(space.slug))",
                "name": project.name, "description": project.description, "releaseURL": "\(base)/releases",
                "variableURL": "\(base)/variables", "deployURL": "/spaces/\(Self.segment(space.slug))/deployments",
                "steps": project.steps.enumerated().map { index, step in
                    [
                        "number": index + 1, "name": step.name, "type": step.kind.rawValue,
                        "roles": (step.targetRoles.isEmpty ? nil : step.targetRoles.joined(separator: ", ")) as Any,
                        "summary": Self.summary(of: step),
                    ] as [String: Any]
                },
                "variables": variables.map { variable in
                    [
                        "name": variable.name, "type": variable.kind.rawValue,
                        "value": variable.kind == .sensitive
                            ? (variable.sealedValue == nil ? "not set" : "set") : variable.value ?? "",
                        "sensitive": variable.kind == .sensitive,
                        "scope": (variable.scope.environmentIDs.map { environmentNames[$0] ?? $0 } + variable.scope.roles)
                            .joined(separator: ", "),
                    ] as [String: Any]
                },
                "releases": releases.map { release in
                    [
                        "version": release.version, "created": Self.time(release.createdAt),
                        "images": release.snapshot.images.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }
                            .joined(separator: ", "),
                    ] as [String: Any]
                },
                "mayRelease": requester.may(.releaseCreate, at: scope(nil)),
                "mayEdit": requester.may(.projectEdit, at: scope(nil)), "editURL": "\(base)/edit",
                "mayEditVariables": requester.may(.variableEdit, at: scope(nil)),
                "mayDeploy": !deployable.isEmpty && !releases.isEmpty,
                "deployEnvironments": deployable.map { ["name": $0.name] },
                "deployReleases": releases.map { ["version": $0.version] },
            ], title: "\(project.name) · \(space.name)", visit: visit)
    }

    /// The main property of a step, in a few words.
    static func summary(of step: DeploymentStep) -> String {
        guard case .object(let properties) = step.properties else { return "" }
        for key in ["serviceName", "taskDefinition", "script", "cluster"] {
            if let value = properties.first(where: { $0.0 == key })?.1 {
                switch value {
                case .string(let text): return "\(key): \(text.prefix(80))"
                case .object(let members):
                    if case .string(let family)? = members.first(where: { $0.0 == "family" })?.1 { return "\(key): \(family)" }
                default: break
                }
            }
        }
        return ""
    }

    func createRelease(_ visit: Visit, _ form: WebForm) async throws -> Response {
        var images: [String: String] = [:]
        for line in form.list("images") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                throw BerthError.invalid(
                    "release", [.init(field: "images", message: "'\(line)' is not container=image (one per line)")])
            }
            images[parts[0]] = parts[1]
        }
        let (project, _) = try await useCases.createRelease(
            version: form["version"] ?? "", images: images, project: try visit.parameter("project"),
            space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect(try await projectURL(visit, project))
    }

    func setVariable(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let kind = ProjectVariable.Kind(rawValue: form["type"] ?? "text") ?? .text
        let variable = try await useCases.setVariable(
            UseCases.VariableInput(
                name: form["name"] ?? "", kind: kind, value: form.fields.first { $0.name == "value" }?.value,
                environments: form.list("environments"), roles: form.list("roles")),
            project: try visit.parameter("project"), space: try visit.parameter("space"), by: visit.requester)
        guard let project = try await useCases.store.project(id: variable.projectID) else {
            throw BerthError.notFound("project", try visit.parameter("project"))
        }
        return Self.redirect(try await projectURL(visit, project))
    }

    func deploy(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let queued = try await useCases.deploy(
            project: form["project"] ?? "", release: form["release"] ?? "", environment: form["environment"] ?? "",
            space: try visit.parameter("space"), by: visit.requester)
        return Self.redirect("/tasks/\(queued.task.id)")
    }
}
