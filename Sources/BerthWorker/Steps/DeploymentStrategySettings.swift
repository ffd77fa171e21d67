import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// How ECS shifts traffic to a service's new revision — the properties the Deploy and Update ECS
/// service steps share: `strategy` (`ROLLING`, `BLUE_GREEN`, `LINEAR`, `CANARY`),
/// `bakeTimeInMinutes`, `linearConfiguration {stepPercent, stepBakeTimeInMinutes}`,
/// `canaryConfiguration {canaryPercent, canaryBakeTimeInMinutes}`, `lifecycleHooks` (ECS's
/// `DeploymentLifecycleHook`s), `alarms {alarmNames, enable, rollback}`, and `rollbackOnCancel`.
///
/// Checked as ECS checks them, when the process is saved: the ranges of the percentages and bake
/// times, a configuration only for its own strategy, hooks only for the traffic-shifting
/// strategies, a Lambda hook with its function and role, a PAUSE hook not at a traffic-shift stage,
/// alarms named when they are on.
struct DeploymentStrategySettings: Equatable {
    var strategy: ECS.DeploymentStrategy = .rolling
    /// Whether the step sets the strategy (the Deploy step always does, an Update step when it
    /// names one); otherwise the service keeps its own, and its rollout is reported by that.
    var isExplicit = false
    var bakeTimeInMinutes: Int?
    var linear: ECS.LinearConfiguration?
    var canary: ECS.CanaryConfiguration?
    var lifecycleHooks: [ECS.DeploymentLifecycleHook]?
    var alarms: ECS.DeploymentAlarms?
    /// Cancelling the Berth deployment asks ECS to roll the service deployment back.
    var rollbackOnCancel = false
    /// `wait: {untilStage: BAKE_TIME}`: the step succeeds once ECS's deployment reaches this stage
    /// (ecspresso's `--wait-until`), and ECS carries on without Berth watching.
    var untilStage: ECS.ServiceDeploymentLifecycleStage?

    /// The stages of a service deployment, in the order ECS goes through them.
    static let stages: [ECS.ServiceDeploymentLifecycleStage] = [
        .reconcileService, .preScaleUp, .scaleUp, .postScaleUp, .testTrafficShift, .postTestTrafficShift,
        .productionTrafficShift, .postProductionTrafficShift, .bakeTime, .cleanUp,
    ]

    static let properties: Set<String> = [
        "strategy", "bakeTimeInMinutes", "linearConfiguration", "canaryConfiguration", "lifecycleHooks", "alarms",
        "rollbackOnCancel",
    ]
    static let strategies: [ECS.DeploymentStrategy] = [.rolling, .blueGreen, .linear, .canary]
    /// The stages a lifecycle hook may run at (ECS's `DeploymentLifecycleHookStage`).
    static let hookStages: [ECS.DeploymentLifecycleHookStage] = [
        .reconcileService, .preScaleUp, .postScaleUp, .testTrafficShift, .postTestTrafficShift, .preProductionTrafficShift,
        .productionTrafficShift, .postProductionTrafficShift,
    ]
    /// Stages where ECS itself moves traffic: a PAUSE hook there is refused by ECS.
    static let trafficShiftStages: Set<ECS.DeploymentLifecycleHookStage> = [.testTrafficShift, .productionTrafficShift]

    /// Whether ECS reports this rollout as a service deployment with stages and traffic weights
    /// (every strategy but a rolling update, whose end the service's own deployments tell).
    var shiftsTraffic: Bool { strategy != .rolling }

    /// Whether any of these properties is set: the Update step then sends a deployment configuration.
    static func isSet(in properties: StepProperties) -> Bool {
        Self.properties.contains { $0 != "rollbackOnCancel" && properties.has($0) }
    }

    static func read(_ properties: StepProperties) throws(BerthError) -> DeploymentStrategySettings {
        var settings = DeploymentStrategySettings()
        if let name = try properties.string("strategy") {
            let strategy = ECS.DeploymentStrategy(rawValue: name.uppercased())
            guard strategies.contains(strategy) else {
                throw properties.failure(
                    "strategy", "'\(name)' is not one of \(strategies.map(\.rawValue).joined(separator: ", "))")
            }
            settings.strategy = strategy
            settings.isExplicit = true
        }
        settings.rollbackOnCancel = try properties.bool("rollbackOnCancel") ?? false
        settings.bakeTimeInMinutes = try properties.int("bakeTimeInMinutes", in: 0...1440)
        if settings.bakeTimeInMinutes != nil, !settings.shiftsTraffic {
            throw properties.failure("bakeTimeInMinutes", "is for the BLUE_GREEN, LINEAR and CANARY strategies")
        }
        if let linear = try properties.decode("linearConfiguration", as: ECS.LinearConfiguration.self) {
            guard settings.strategy == .linear else {
                throw properties.failure("linearConfiguration", "is for strategy LINEAR")
            }
            if let percent = linear.stepPercent, !Self.isTenth(percent, in: 3...100) {
                throw properties.failure(
                    "linearConfiguration", "stepPercent must be 3.0 to 100.0 in steps of 0.1 (got \(percent))")
            }
            try Self.checkMinutes(linear.stepBakeTimeInMinutes, "linearConfiguration", "stepBakeTimeInMinutes", properties)
            settings.linear = linear
        }
        if let canary = try properties.decode("canaryConfiguration", as: ECS.CanaryConfiguration.self) {
            guard settings.strategy == .canary else {
                throw properties.failure("canaryConfiguration", "is for strategy CANARY")
            }
            if let percent = canary.canaryPercent, !Self.isTenth(percent, in: 0.1...100) {
                throw properties.failure(
                    "canaryConfiguration", "canaryPercent must be 0.1 to 100.0 in steps of 0.1 (got \(percent))")
            }
            try Self.checkMinutes(canary.canaryBakeTimeInMinutes, "canaryConfiguration", "canaryBakeTimeInMinutes", properties)
            settings.canary = canary
        }
        if let hooks = try properties.decode("lifecycleHooks", as: [ECS.DeploymentLifecycleHook].self) {
            guard settings.shiftsTraffic else {
                throw properties.failure("lifecycleHooks", "are for the BLUE_GREEN, LINEAR and CANARY strategies")
            }
            for (index, hook) in hooks.enumerated() {
                try Self.check(hook, at: index, properties)
            }
            settings.lifecycleHooks = hooks
        }
        if case .object? = properties.json["wait"] {
            guard case .string(let text)? = properties.json["wait"]?["untilStage"],
                case let name = text.uppercased(), stages.contains(ECS.ServiceDeploymentLifecycleStage(rawValue: name))
            else {
                throw properties.failure(
                    "wait", "untilStage must be one of \(stages.map(\.rawValue).joined(separator: ", "))")
            }
            guard settings.shiftsTraffic else {
                throw properties.failure("wait", "untilStage is for the BLUE_GREEN, LINEAR and CANARY strategies")
            }
            settings.untilStage = ECS.ServiceDeploymentLifecycleStage(rawValue: name)
        }
        if let alarms = try properties.decode("alarms", as: ECS.DeploymentAlarms.self) {
            guard let enable = alarms.enable, alarms.rollback != nil else {
                throw properties.failure("alarms", "needs enable and rollback (true or false), as ECS does")
            }
            if enable, (alarms.alarmNames ?? []).isEmpty {
                throw properties.failure("alarms", "alarmNames must name at least one CloudWatch alarm when enable is true")
            }
            settings.alarms = alarms
        }
        return settings
    }

    static func check(
        _ hook: ECS.DeploymentLifecycleHook, at index: Int, _ properties: StepProperties
    ) throws(BerthError) {
        let field = "lifecycleHooks[\(index)]"
        let type = hook.targetType ?? .awsLambda
        let stages = hook.lifecycleStages ?? []
        if stages.isEmpty { throw properties.failure(field, "needs lifecycleStages (the stages it runs at)") }
        if let unknown = stages.first(where: { !hookStages.contains($0) }) {
            throw properties.failure(
                field,
                "lifecycleStages: '\(unknown.rawValue)' is not one of \(hookStages.map(\.rawValue).joined(separator: ", "))")
        }
        switch type {
        case .awsLambda:
            if (hook.hookTargetArn ?? "").isEmpty || (hook.roleArn ?? "").isEmpty {
                throw properties.failure(
                    field, "(AWS_LAMBDA) needs hookTargetArn (the function) and roleArn (the role ECS invokes it with)")
            }
        case .pause:
            if hook.hookTargetArn != nil {
                throw properties.failure(field, "(PAUSE) takes no hookTargetArn: it waits for a person, not a function")
            }
            if let stage = stages.first(where: trafficShiftStages.contains) {
                throw properties.failure(
                    field,
                    "(PAUSE) cannot pause at \(stage.rawValue): ECS takes PAUSE hooks at every stage but the traffic shifts")
            }
        default:
            throw properties.failure(field, "targetType '\(type.rawValue)' is not one of AWS_LAMBDA, PAUSE")
        }
    }

    static func isTenth(_ value: Double, in range: ClosedRange<Double>) -> Bool {
        range.contains(value) && abs(value * 10 - (value * 10).rounded()) < 1e-9
    }

    static func checkMinutes(_ value: Int?, _ key: String, _ member: String, _ properties: StepProperties) throws(BerthError) {
        if let value, !(0...1440).contains(value) {
            throw properties.failure(key, "\(member) must be 0 to 1440 minutes (got \(value))")
        }
    }

    /// `configuration` with these settings. The strategy only when the step sets it (an Update step
    /// that sets only alarms keeps the service's strategy); a rolling update keeps the circuit
    /// breaker and drops what only the other strategies take, the others drop the circuit breaker,
    /// as ECS takes it only for rolling updates.
    func apply(to configuration: inout ECS.DeploymentConfiguration) {
        if let alarms { configuration.alarms = alarms }
        guard isExplicit else { return }
        configuration.strategy = strategy
        guard shiftsTraffic else {
            configuration.bakeTimeInMinutes = nil
            configuration.linearConfiguration = nil
            configuration.canaryConfiguration = nil
            configuration.lifecycleHooks = nil
            return
        }
        configuration.deploymentCircuitBreaker = nil
        configuration.bakeTimeInMinutes = bakeTimeInMinutes
        configuration.linearConfiguration = linear
        configuration.canaryConfiguration = canary
        configuration.lifecycleHooks = lifecycleHooks
    }

    /// A traffic-shifting strategy for a new service needs a load balancer whose advanced
    /// configuration names the alternate target group, the production listener rule and the role.
    func checkLoadBalancers(_ loadBalancers: [ECS.LoadBalancer]?, _ properties: StepProperties) throws(BerthError) {
        guard shiftsTraffic else { return }
        guard let balancers = loadBalancers, !balancers.isEmpty else {
            throw properties.failure(
                "strategy",
                "\(strategy.rawValue) shifts traffic between two target groups: it needs loadBalancers with an advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn)"
            )
        }
        for (index, balancer) in balancers.enumerated() {
            let advanced = balancer.advancedConfiguration
            let missing = [
                ("alternateTargetGroupArn", advanced?.alternateTargetGroupArn),
                ("productionListenerRule", advanced?.productionListenerRule),
                ("roleArn", advanced?.roleArn),
            ].filter { ($0.1 ?? "").isEmpty }.map(\.0)
            if !missing.isEmpty {
                throw properties.failure(
                    "loadBalancers",
                    "[\(index)].advancedConfiguration needs \(missing.joined(separator: ", ")) for strategy \(strategy.rawValue)")
            }
        }
    }
}
