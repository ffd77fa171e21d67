import BerthAPI
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
        let name = document.removeValue(forKey: "name") as? String
        guard document["steps"] is [Any] else {
            throw CLIFailure.usage("The project file \(path) has no 'steps' list.")
        }
        if var steps = document["steps"] as? [[String: Any]] {
            for index in steps.indices {
                guard var properties = steps[index]["properties"] as? [String: Any],
                    let reference = properties["taskDefinition"] as? String, reference.hasPrefix("file://")
                else { continue }
                let file = URL(fileURLWithPath: String(reference.dropFirst(7)), relativeTo: url.deletingLastPathComponent())
                guard let data = try? Data(contentsOf: file), let json = try? JSONSerialization.jsonObject(with: data) else {
                    throw CLIFailure.usage("Step \(index + 1): \(reference) is not a readable JSON task definition.")
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
