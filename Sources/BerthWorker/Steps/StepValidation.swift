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
            if case .object(let members) = step.properties {
                let known = (knownProperties[step.kind] ?? []).union(commonProperties)
                for (key, _) in members where !known.contains(key) {
                    errors.add(
                        "\(field).\(key)",
                        "step '\(step.name)' (\(step.kind.rawValue)) has no property \(key)\(ClosestName.hint(key, among: known))"
                    )
                }
            }
            for (key, read) in shapes[step.kind] ?? [] where properties.has(key) && !hasReference([key]) {
                errors.check("\(field).\(key)") { try read(properties) }
            }
            switch step.kind {
            case .deployService:
                require("serviceName", "the ECS service's name")
                require("taskDefinition", "a task definition (family and containerDefinitions)")
                if !hasReference(Array(DeploymentStrategySettings.properties) + ["wait", "loadBalancers"]) {
                    check { () throws(BerthError) in
                        try DeploymentStrategySettings.read(properties).checkLoadBalancers(
                            try properties.decode("loadBalancers", as: [ECS.LoadBalancer].self), properties)
                    }
                }
                if !hasReference(["logGroup", "logRetentionDays"]) {
                    check { () throws(BerthError) in _ = try ContainerLogging.retentionDays(properties) }
                    check { () throws(BerthError) in _ = try ContainerLogging.group(properties, family: "family") }
                }
            case .updateService:
                require("serviceName", "the ECS service's name")
                if !hasReference(Array(DeploymentStrategySettings.properties) + ["wait"]) {
                    check { () throws(BerthError) in _ = try DeploymentStrategySettings.read(properties) }
                }
            case .runTask:
                require("taskDefinition", "the task definition to run (family, family:revision or ARN)")
            case .manualIntervention:
                require("instructions", "instructions for whoever answers it")
                if let teams = step.properties["responsibleTeams"] {
                    let names: Bool =
                        if case .array(let items) = teams {
                            items.allSatisfy { if case .string(let name) = $0 { !name.isEmpty } else { false } }
                        } else { false }
                    if !names {
                        errors.add("\(field).responsibleTeams", "must be a list of team names, such as [release-managers]")
                    }
                }
                if properties.has("timeoutMinutes") {
                    errors.check("\(field).timeoutMinutes") { _ = try properties.int("timeoutMinutes", in: 1...43_200) }
                }
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
            if step.kind != .awsCLIScript, step.kind != .manualIntervention {
                check { () throws(BerthError) in _ = try properties.tags() }
            }
            for key in ["desiredCount", "minimumHealthyPercent", "maximumPercent", "timeoutSeconds", "count"] {
                if case .string(let text)? = step.properties[key], text.contains("#{") { continue }
                errors.check("\(field).\(key)") { _ = try properties.int(key) }
            }
            for key in ["enableExecuteCommand", "enableECSManagedTags", "stopOnTimeout", "rollbackOnCancel", "verify"] {
                if case .string(let text)? = step.properties[key], text.contains("#{") { continue }
                errors.check("\(field).\(key)") { _ = try properties.bool(key) }
            }
            if case .object? = step.properties["wait"], step.kind != .deployService, step.kind != .updateService {
                errors.add("\(field).wait", "step '\(step.name)': wait {untilStage} is for the ECS service steps")
            } else if !hasReference(["wait"]) {
                // `wait` alone: `timeoutSeconds` is checked below, and may be a `#{}` reference.
                errors.check("\(field).wait") { _ = try properties.waits() }
            }
        }
        try errors.throwIfAny("process")
    }

    /// Every property each step type reads. A property not listed is refused when the process is
    /// saved, with the closest known name: a typo would otherwise be dropped in silence and the
    /// deployment run without it.
    /// Properties every step takes: `workerPool`, the pool whose workers run it (by default the
    /// target's pool, or the space's default pool for a script without target roles).
    static let commonProperties: Set<String> = ["workerPool"]

    static let knownProperties: [DeploymentStep.Kind: Set<String>] = [
        .manualIntervention: ["instructions", "responsibleTeams", "timeoutMinutes"],
        .deployService: Set([
            "serviceName", "taskDefinition", "desiredCount", "minimumHealthyPercent", "maximumPercent", "launchType",
            "capacityProviderStrategy", "networkConfiguration", "loadBalancers", "platformVersion",
            "healthCheckGracePeriodSeconds", "enableExecuteCommand", "enableECSManagedTags", "propagateTags",
            "circuitBreaker", "logGroup", "logRetentionDays", "tags", "wait", "timeoutSeconds", "verify",
        ]).union(DeploymentStrategySettings.properties),
        .updateService: Set([
            "serviceName", "taskDefinitionFamily", "templateTaskDefinition", "containers", "desiredCount", "tags", "wait",
            "timeoutSeconds", "verify",
        ]).union(DeploymentStrategySettings.properties),
        .runTask: [
            "taskDefinition", "count", "launchType", "capacityProviderStrategy", "networkConfiguration", "overrides",
            "platformVersion", "startedBy", "stopOnTimeout", "tags", "wait", "timeoutSeconds",
        ],
        .awsCLIScript: [
            "script", "region", "timeoutSeconds", "account", "assumeRoleArn", "assumeRoleSessionName",
            "assumeRoleDurationSeconds", "assumeRoleExternalId",
        ],
    ]

    /// The properties that hold an AWS shape, decoded when the process is saved (unless a `#{}`
    /// reference makes that impossible yet), so that a wrong or unknown member is found then.
    static let shapes: [DeploymentStep.Kind: [(String, @Sendable (StepProperties) throws -> Void)]] = [
        .deployService: [
            ("taskDefinition", { _ = try $0.decode("taskDefinition", as: ECS.RegisterTaskDefinitionRequest.self) }),
            (
                "capacityProviderStrategy",
                { _ = try $0.decode("capacityProviderStrategy", as: [ECS.CapacityProviderStrategyItem].self) }
            ),
            ("networkConfiguration", { _ = try $0.decode("networkConfiguration", as: ECS.NetworkConfiguration.self) }),
            ("loadBalancers", { _ = try $0.decode("loadBalancers", as: [ECS.LoadBalancer].self) }),
            ("circuitBreaker", { _ = try $0.decode("circuitBreaker", as: ECS.DeploymentCircuitBreaker.self) }),
        ],
        .updateService: [
            ("containers", { _ = try $0.decode("containers", as: [UpdateServiceStep.ContainerChange].self) })
        ],
        .runTask: [
            (
                "capacityProviderStrategy",
                { _ = try $0.decode("capacityProviderStrategy", as: [ECS.CapacityProviderStrategyItem].self) }
            ),
            ("networkConfiguration", { _ = try $0.decode("networkConfiguration", as: ECS.NetworkConfiguration.self) }),
            ("overrides", { _ = try $0.decode("overrides", as: ECS.TaskOverride.self) }),
        ],
    ]
}
