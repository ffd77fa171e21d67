import BerthDomain
import BerthUseCases
import Foundation
import Yams

/// A project as the YAML document `berth project apply` takes — `name`, `description`, `steps`,
/// `variables` — for the web UI's editor: written from the stored project (keys in their order,
/// sensitive values left out: listed without a value, they keep the stored one) and read back
/// into the use case's input.
struct ProjectDocument {
    var description: String?
    /// The lifecycle's name ("" for none); nil when the document does not say.
    var lifecycle: String?
    var steps: [DeploymentStep]
    var variables: [UseCases.VariableInput]?

    /// The document of `project` and its `variables` (environment and target ids named).
    static func yaml(
        _ project: Project, variables: [ProjectVariable], environments: [String: String], targets: [String: String],
        accounts: [String: String], lifecycle: String? = nil
    ) throws -> String {
        var top: [(String, JSONValue)] = [("name", .string(project.name))]
        if !project.description.isEmpty { top.append(("description", .string(project.description))) }
        if let lifecycle { top.append(("lifecycle", .string(lifecycle))) }
        top.append(
            (
                "steps",
                .array(
                    project.steps.map { step in
                        var members: [(String, JSONValue)] = [
                            ("name", .string(step.name)), ("type", .string(step.kind.rawValue)),
                        ]
                        if !step.targetRoles.isEmpty {
                            members.append(("targetRoles", .array(step.targetRoles.map(JSONValue.string))))
                        }
                        if let only = step.environments {
                            members.append(("environments", .array(only.map { .string(environments[$0] ?? $0) })))
                        }
                        if let excluded = step.excludeEnvironments {
                            members.append(("excludeEnvironments", .array(excluded.map { .string(environments[$0] ?? $0) })))
                        }
                        members.append(("properties", step.properties))
                        return .object(members)
                    })
            ))
        top.append(
            (
                "variables",
                .array(
                    variables.map { variable in
                        var members: [(String, JSONValue)] = [("name", .string(variable.name))]
                        if variable.kind != .text { members.append(("type", .string(variable.kind.rawValue))) }
                        switch variable.kind {
                        case .text: members.append(("value", .string(variable.value ?? "")))
                        case .awsAccount:
                            members.append(("value", .string(accounts[variable.value ?? ""] ?? variable.value ?? "")))
                        case .sensitive: break
                        }
                        var scope: [(String, JSONValue)] = []
                        let scoped = variable.scope
                        if !scoped.environmentIDs.isEmpty {
                            scope.append(("environments", .array(scoped.environmentIDs.map { .string(environments[$0] ?? $0) })))
                        }
                        if !scoped.roles.isEmpty { scope.append(("roles", .array(scoped.roles.map(JSONValue.string)))) }
                        if !scoped.targetIDs.isEmpty {
                            scope.append(("targets", .array(scoped.targetIDs.map { .string(targets[$0] ?? $0) })))
                        }
                        if !scope.isEmpty { members.append(("scope", .object(scope))) }
                        return .object(members)
                    })
            ))
        return try Yams.serialize(node: node(.object(top)), indent: 2, width: -1, allowUnicode: true)
    }

    /// Reads an edited document. - Throws: a validation error naming the field (`steps[1].type`).
    static func read(_ text: String) throws -> ProjectDocument {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw BerthError.invalid("project", [.init(field: "document", message: "is not valid YAML: \(error)")])
        }
        var budget = Self.maximumNodes
        guard case .object(let top) = try value(of: root ?? Node([(Node, Node)]()), budget: &budget) else {
            throw BerthError.invalid("project", [.init(field: "document", message: "must be a mapping with steps and variables")])
        }
        var errors = ValidationErrors()
        for (key, _) in top where !["name", "description", "lifecycle", "steps", "variables"].contains(key) {
            errors.add(key, "is not a key of a project document (name, description, lifecycle, steps, variables)")
        }
        var document = ProjectDocument(description: nil, lifecycle: nil, steps: [], variables: nil)
        for (key, value) in top {
            switch (key, value) {
            case ("description", .string(let text)): document.description = text
            case ("lifecycle", .string(let name)): document.lifecycle = name
            case ("lifecycle", .null): document.lifecycle = ""
            case ("steps", .array(let items)):
                for (index, item) in items.enumerated() {
                    guard case .object(let members) = item, case .string(let name)? = members.first(where: { $0.0 == "name" })?.1,
                        case .string(let type)? = members.first(where: { $0.0 == "type" })?.1
                    else {
                        errors.add("steps[\(index)]", "needs a name and a type")
                        continue
                    }
                    guard let kind = DeploymentStep.Kind(rawValue: type) else {
                        let known = DeploymentStep.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                        errors.add("steps[\(index)].type", "'\(type)' is not a step type (\(known))")
                        continue
                    }
                    // As the CLI refuses them: an unknown key, or a list that is not one, is not dropped.
                    for (key, value) in members {
                        if !Self.stepKeys.contains(key) {
                            errors.add(
                                "steps[\(index)].\(key)", "is not a key of a step (\(Self.stepKeys.joined(separator: ", ")))")
                        } else if ["targetRoles", "environments", "excludeEnvironments"].contains(key) {
                            let strings: Bool =
                                if case .array(let items) = value {
                                    items.allSatisfy { if case .string = $0 { true } else { false } }
                                } else { false }
                            if !strings { errors.add("steps[\(index)].\(key)", "must be a list of names, such as [Production]") }
                        }
                    }
                    let list = { (key: String) -> [String]? in
                        guard case .array(let values)? = members.first(where: { $0.0 == key })?.1 else { return nil }
                        return values.compactMap { if case .string(let text) = $0 { text } else { nil } }
                    }
                    document.steps.append(
                        DeploymentStep(
                            name: name, kind: kind, targetRoles: list("targetRoles") ?? [],
                            properties: members.first(where: { $0.0 == "properties" })?.1 ?? .object([]),
                            environments: list("environments"), excludeEnvironments: list("excludeEnvironments")))
                }
            case ("variables", .array(let items)):
                var variables: [UseCases.VariableInput] = []
                for (index, item) in items.enumerated() {
                    guard case .object(let members) = item, case .string(let name)? = members.first(where: { $0.0 == "name" })?.1
                    else {
                        errors.add("variables[\(index)]", "needs a name")
                        continue
                    }
                    let field = { (key: String) in members.first(where: { $0.0 == key })?.1 }
                    var kind = ProjectVariable.Kind.text
                    if case .string(let type)? = field("type") {
                        guard let known = ProjectVariable.Kind(rawValue: type) else {
                            errors.add("variables[\(index)].type", "'\(type)' is not text, sensitive or aws-account")
                            continue
                        }
                        kind = known
                    }
                    var input = UseCases.VariableInput(name: name, kind: kind, value: field("value").flatMap(Self.text))
                    if case .object(let scope)? = field("scope") {
                        let list = { (key: String) -> [String] in
                            guard case .array(let values)? = scope.first(where: { $0.0 == key })?.1 else { return [] }
                            return values.compactMap(Self.text)
                        }
                        input.environments = list("environments")
                        input.roles = list("roles")
                        input.targets = list("targets")
                    }
                    variables.append(input)
                }
                document.variables = variables
            case ("name", _): break
            case ("description", _), ("lifecycle", _), ("steps", _), ("variables", _):
                errors.add(key, ["description", "lifecycle"].contains(key) ? "must be text" : "must be a list")
            default: break
            }
        }
        try errors.throwIfAny("project")
        return document
    }

    /// The keys a step may have: those of `berth project apply`'s file.
    static let stepKeys = ["name", "type", "targetRoles", "environments", "excludeEnvironments", "properties"]

    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number(let number): number == number.rounded() ? String(Int(number)) : String(number)
        case .bool(let flag): String(flag)
        default: nil
        }
    }

    /// A YAML node of a JSON value, keys in their order; a string that would read back as
    /// something else (`true`, `12`) is quoted.
    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .string(let text):
            let plain = Node(text)
            let readsBack =
                (try? Yams.compose(yaml: text))??.string == text && plain.int == nil && plain.float == nil
                && plain.bool == nil && plain.null == nil
            return readsBack && !text.contains("\n")
                ? plain : Node(text, .implicit, text.contains("\n") ? .literal : .doubleQuoted)
        case .number(let number):
            return Node(number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number))
        case .bool(let flag): return Node(flag ? "true" : "false")
        case .null: return Node("null")
        case .array(let items): return Node(items.map(node))
        case .object(let members): return Node(members.map { (Node($0.0), node($0.1)) })
        }
    }

    /// The most nodes a document may have once its aliases are expanded: a few kilobytes of
    /// nested aliases (a "billion laughs") must not take a node's memory.
    static let maximumNodes = 100_000

    /// The JSON value of a YAML node, keys in their order, with at most `budget` nodes.
    static func value(of node: Node, budget: inout Int) throws -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw BerthError.invalid(
                "project",
                [.init(field: "document", message: "has more than \(maximumNodes) values once its aliases are expanded")])
        }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any {
                if node.null != nil { return .null }
                if let flag = node.bool { return .bool(flag) }
                if let number = node.int { return .number(Double(number)) }
                if let number = node.float { return .number(number) }
            }
            return .string(scalar.string)
        case .sequence(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try value(of: item, budget: &budget)) }
            return .array(values)
        case .mapping(let pairs):
            var members: [(String, JSONValue)] = []
            for pair in pairs {
                guard let key = pair.key.string else {
                    throw BerthError.invalid("project", [.init(field: "document", message: "a key is not text")])
                }
                members.append((key, try value(of: pair.value, budget: &budget)))
            }
            return .object(members)
        case .alias:
            throw BerthError.invalid("project", [.init(field: "document", message: "aliases are not supported")])
        }
    }
}
