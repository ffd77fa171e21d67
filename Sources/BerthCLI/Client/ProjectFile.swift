import BerthAPI
import BerthDomain
import Foundation
import Yams

/// A project as code: `project.yaml` (or JSON) with `name`, `description`, `steps` and
/// `variables`. A step's `taskDefinition` may be written inline — exactly what
/// `aws ecs register-task-definition --cli-input-json` takes — or as `file://taskdef.json`,
/// read relative to the project file.
struct ProjectFile {
    var name: String?
    var apply: Components.Schemas.ProjectApply

    static func load(_ path: String) throws -> ProjectFile {
        let url = URL(fileURLWithPath: path)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw CLIFailure.usage("The project file \(path) cannot be read.")
        }
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch let error as YamlError {
            throw CLIFailure.usage("The project file \(path) is not valid YAML: \(error)")
        }
        guard var document = loaded as? [String: Any] else {
            throw CLIFailure.usage("The project file \(path) must be a mapping with name, steps and variables.")
        }
        try refuseUnknownKeys(document, path: path)
        let name = document.removeValue(forKey: "name") as? String
        guard document["steps"] is [Any] else {
            throw CLIFailure.usage("The project file \(path) has no 'steps' list.")
        }
        if var steps = document["steps"] as? [[String: Any]] {
            for index in steps.indices {
                guard var properties = steps[index]["properties"] as? [String: Any],
                    let reference = properties["taskDefinition"] as? String, reference.hasPrefix("file://")
                else { continue }
                let step = "Step \(index + 1)" + ((steps[index]["name"] as? String).map { " ('\($0)')" } ?? "")
                let file = try resolve(reference, beside: url, step: step)
                guard let data = try? Data(contentsOf: file), let json = try? JSONSerialization.jsonObject(with: data) else {
                    throw CLIFailure.usage("\(step): \(reference) is not a readable JSON task definition.")
                }
                properties["taskDefinition"] = json
                steps[index]["properties"] = properties
            }
            document["steps"] = steps
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: jsonSafe(document))
            return ProjectFile(name: name, apply: try JSONDecoder().decode(Components.Schemas.ProjectApply.self, from: data))
        } catch let error as DecodingError {
            throw CLIFailure.usage("The project file \(path) does not describe a project: \(describe(error))")
        }
    }

    /// The file a `file://` reference names, relative to the project file's folder, which it may
    /// not leave: no absolute path, no `..`, no symbolic link that points outside. A project file
    /// from someone else must not make the CLI send them a file of yours.
    static func resolve(_ reference: String, beside projectFile: URL, step: String) throws -> URL {
        let relative = String(reference.dropFirst("file://".count))
        func refuse(_ why: String) -> CLIFailure {
            .usage(
                "\(step): \(reference) \(why). A file:// reference names a file in the project file's folder or below it, relative to it (file://taskdef.json)."
            )
        }
        if relative.isEmpty { throw refuse("names no file") }
        if relative.hasPrefix("/") || relative.hasPrefix("~") { throw refuse("is an absolute path") }
        if relative.split(separator: "/").contains("..") { throw refuse("goes up with '..'") }
        let folder = projectFile.deletingLastPathComponent().standardizedFileURL
        let file = folder.appendingPathComponent(relative).standardizedFileURL
        let realFolder = folder.resolvingSymlinksInPath().path
        let realFile = file.resolvingSymlinksInPath().path
        guard realFile.hasPrefix(realFolder.hasSuffix("/") ? realFolder : realFolder + "/") else {
            throw refuse("leads out of the project file's folder through a symbolic link (to \(realFile))")
        }
        return file
    }

    /// The keys a project file may have, at the top and in each step and variable.
    static let documentKeys = ["name", "description", "lifecycle", "steps", "variables"]
    static let stepKeys = ["name", "type", "targetRoles", "environments", "excludeEnvironments", "properties"]
    static let variableKeys = ["name", "type", "value", "scope"]
    static let scopeKeys = ["environments", "roles", "targets"]

    /// Refuses a key the project file format does not have, naming it, where it is and the closest
    /// known key: a typo must fail the apply, not be dropped silently. (Step properties are checked
    /// by the server, which knows every step type.)
    static func refuseUnknownKeys(_ document: [String: Any], path: String) throws {
        func check(_ object: [String: Any], _ known: [String], _ place: String) throws {
            for key in object.keys.sorted() where !known.contains(key) {
                throw CLIFailure.usage(
                    "The project file \(path) has an unknown key '\(key)' \(place)\(ClosestName.hint(key, among: known)); "
                        + "known keys there: \(known.joined(separator: ", ")).")
            }
        }
        try check(document, documentKeys, "at the top")
        for (index, step) in ((document["steps"] as? [Any]) ?? []).enumerated() {
            guard let step = step as? [String: Any] else { continue }
            let name = (step["name"] as? String).map { " ('\($0)')" } ?? ""
            try check(step, stepKeys, "in step \(index + 1)\(name)")
        }
        for (index, variable) in ((document["variables"] as? [Any]) ?? []).enumerated() {
            guard let variable = variable as? [String: Any] else { continue }
            let name = (variable["name"] as? String).map { " ('\($0)')" } ?? ""
            try check(variable, variableKeys, "in variable \(index + 1)\(name)")
            if let scope = variable["scope"] as? [String: Any] {
                try check(scope, scopeKeys, "in the scope of variable \(index + 1)\(name)")
            }
        }
    }

    /// YAML scalars JSONSerialization does not take (dates, Data) become strings.
    static func jsonSafe(_ value: Any) -> Any {
        switch value {
        case let dictionary as [String: Any]: return dictionary.mapValues(jsonSafe)
        case let array as [Any]: return array.map(jsonSafe)
        case is String, is Int, is Double, is Bool, is NSNull: return value
        case let date as Date: return ISO8601DateFormatter().string(from: date)
        default: return "\(value)"
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "'\(key.stringValue)' is missing at \(path(context).isEmpty ? "the top" : path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
