import AWSECS
import BerthDomain
import Foundation

/// Checks a process when it is saved, so that mistakes show up at `project apply`, not halfway
/// through a deployment: required properties per step type, and task definitions that decode as
/// ECS takes them (where no `#{}` reference makes that impossible to know yet).
public enum StepValidation {
    public static func validate(_ steps: [DeploymentStep]) throws(BerthError) {
        var errors = ValidationErrors()
        for (index, step) in steps.enumerated() {
            let field = "steps[\(index)].properties"
            let properties = StepProperties(step: step.name, json: step.properties)
            func require(_ key: String, _ what: String) {
                if !properties.has(key) { errors.add("\(field).\(key)", "step '\(step.name)' needs \(what)") }
            }
            /// Records what a reader of several properties throws, under the property it names.
            func check(_ read: () throws(BerthError) -> Void) {
                do { try read() } catch { errors.add("\(field).\(error.details.first?.field ?? "")", error.message) }
            }
            func hasReference(_ keys: [String]) -> Bool {
                keys.contains { step.properties[$0]?.rendered().contains("#{") == true }
            }
            switch step.kind {
            case .deployService:
                require("serviceName", "the ECS service's name")
                require("taskDefinition", "a task definition (family and containerDefinitions)")
                if let definition = step.properties["taskDefinition"], !definition.rendered().contains("#{") {
                    errors.check("\(field).taskDefinition") {
                        _ = try properties.decode("taskDefinition", as: ECS.RegisterTaskDefinitionRequest.self)
                    }
                }
                if !hasReference(["logGroup", "logRetentionDays"]) {
                    check { () throws(BerthError) in _ = try ContainerLogging.retentionDays(properties) }
                    check { () throws(BerthError) in _ = try ContainerLogging.group(properties, family: "family") }
                }
            case .updateService:
                require("serviceName", "the ECS service's name")
            case .runTask:
                require("taskDefinition", "the task definition to run (family, family:revision or ARN)")
            case .awsCLIScript:
                require("script", "a bash script")
                let named = ScriptCredentials.keys.filter(properties.has)
                if !step.targetRoles.isEmpty, let key = named.first {
                    errors.add(
                        "\(field).\(key)",
                        "step '\(step.name)' runs on targets, with each target's credentials; \(key) is for a script without target roles"
                    )
                } else if !hasReference(named) {
                    check { () throws(BerthError) in _ = try ScriptCredentials.settings(properties) }
                }
                // A whole number is checked for every step below; here, the range a script takes.
                if (try? properties.int("timeoutSeconds")) != nil {
                    check { () throws(BerthError) in _ = try properties.int("timeoutSeconds", in: ScriptStep.timeoutRange) }
                }
            }
            if step.kind != .awsCLIScript { check { () throws(BerthError) in _ = try properties.tags() } }
            for key in ["desiredCount", "minimumHealthyPercent", "maximumPercent", "timeoutSeconds", "count"] {
                if case .string(let text)? = step.properties[key], text.contains("#{") { continue }
                errors.check("\(field).\(key)") { _ = try properties.int(key) }
            }
            for key in ["wait", "enableExecuteCommand", "enableECSManagedTags", "stopOnTimeout"] {
                if case .string(let text)? = step.properties[key], text.contains("#{") { continue }
                errors.check("\(field).\(key)") { _ = try properties.bool(key) }
            }
        }
        try errors.throwIfAny("process")
    }
}
