import Foundation

/// ECS's service deployments, as the fake keeps them: every CreateService and UpdateService starts
/// one. A rolling one follows the service's own rollout; a blue/green, linear or canary one goes
/// through the lifecycle stages with time, shifting test and then production traffic to its
/// revision, baking, and ending SUCCESSFUL — unless a PAUSE hook holds it, an alarm fires, or it is
/// stopped. Shapes as in botocore's model (`ServiceDeployment`, `ServiceDeploymentBrief`,
/// `ServiceRevision`).
extension FakeECS {
    struct ServiceDeployment {
        var arn: String
        var serviceKey: String
        var serviceArn: String
        var clusterArn: String
        var targetRevision: String
        var sourceRevisions: [String]
        var taskDefinition: String
        var scenario: String
        var configuration: [String: Any]
        var createdAt: Date
        var status = "IN_PROGRESS"
        var stage = 0
        var stageEnteredAt: Date
        var statusReason: String?
        var rollbackReason: String?
        var rollbackStartedAt: Date?
        var triggeredAlarms: [String] = []
        /// The PAUSE hook holding the deployment, and the hooks already answered.
        var pausedHook: String?
        var answeredHooks: Set<String> = []
        var finishedAt: Date?

        var strategy: String { configuration["strategy"] as? String ?? "ROLLING" }
        var isFinished: Bool {
            !["PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"].contains(status)
        }
    }

    static let stages = [
        "RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
    ]

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func startServiceDeployment(of key: String, now: Date, _ state: inout State) {
        guard let service = state.services[key], let primary = service.rollouts.first(where: { $0.status == "PRIMARY" }) else {
            return
        }
        let revisionBase =
            "arn:aws:ecs:\(settings.region):\(settings.account):service-revision/\(service.cluster)/\(service.name)"
        let sources = state.serviceDeployments.filter { $0.serviceKey == key && $0.status == "SUCCESSFUL" }.suffix(1).map(
            \.targetRevision)
        // A deployment still running is superseded by the new one, as ECS does.
        for index in state.serviceDeployments.indices
        where state.serviceDeployments[index].serviceKey == key && !state.serviceDeployments[index].isFinished {
            state.serviceDeployments[index].status = "STOPPED"
            state.serviceDeployments[index].statusReason = "Superseded by a newer service deployment."
            state.serviceDeployments[index].finishedAt = now
        }
        state.serviceDeployments.append(
            ServiceDeployment(
                arn:
                    "arn:aws:ecs:\(settings.region):\(settings.account):service-deployment/\(service.cluster)/\(service.name)/\(UUID().uuidString.prefix(12).lowercased())",
                serviceKey: key, serviceArn: service.arn,
                clusterArn: "arn:aws:ecs:\(settings.region):\(settings.account):cluster/\(service.cluster)",
                targetRevision: "\(revisionBase)/\(UUID().uuidString.prefix(10).lowercased())", sourceRevisions: Array(sources),
                taskDefinition: primary.taskDefinition, scenario: primary.scenario,
                configuration: service.deploymentConfiguration,
                createdAt: now, stageEnteredAt: now))
    }

    /// Moves every unfinished deployment along to `now`.
    func advanceServiceDeployments(now: Date, _ state: inout State) {
        for index in state.serviceDeployments.indices where !state.serviceDeployments[index].isFinished {
            var deployment = state.serviceDeployments[index]
            advance(&deployment, now: now, &state)
            state.serviceDeployments[index] = deployment
        }
    }

    func advance(_ deployment: inout ServiceDeployment, now: Date, _ state: inout State) {
        if deployment.status == "ROLLBACK_IN_PROGRESS" {
            if now.timeIntervalSince(deployment.rollbackStartedAt ?? now) >= seconds(settings.stageDuration) {
                deployment.status = "ROLLBACK_SUCCESSFUL"
                deployment.finishedAt = now
            }
            return
        }
        if deployment.strategy == "ROLLING" {
            let rollout = state.services[deployment.serviceKey]?.rollouts.first { $0.taskDefinition == deployment.taskDefinition }
            switch rollout?.rolloutState {
            case "COMPLETED"?:
                deployment.status = "SUCCESSFUL"
                deployment.finishedAt = now
            case "FAILED"?:
                deployment.status = "ROLLBACK_SUCCESSFUL"
                deployment.rollbackReason = rollout?.reason
                deployment.finishedAt = now
            default: break
            }
            return
        }
        // One stage per call at most: a poller on a loaded machine still sees every stage, as it
        // would on ECS, whose stages last minutes, not the fake's 150 ms.
        if deployment.pausedHook == nil, deployment.status == "IN_PROGRESS",
            now.timeIntervalSince(deployment.stageEnteredAt) >= stageLength(deployment)
        {
            let enteredAt = now
            if deployment.stage + 1 >= Self.stages.count {
                deployment.status = "SUCCESSFUL"
                deployment.finishedAt = enteredAt
                return
            }
            deployment.stage += 1
            deployment.stageEnteredAt = enteredAt
            let stage = Self.stages[deployment.stage]
            if let hook = pauseHook(deployment, at: stage), !deployment.answeredHooks.contains(hook) {
                deployment.pausedHook = hook
            }
            let bakes = stage == "BAKE_TIME" || (stage == "PRODUCTION_TRAFFIC_SHIFT" && deployment.strategy == "CANARY")
            let alarms = deployment.configuration["alarms"] as? [String: Any]
            if bakes, deployment.scenario == "alarm", alarms?["enable"] as? Bool ?? true,
                let alarm = (alarms?["alarmNames"] as? [String])?.first
            {
                deployment.triggeredAlarms = [alarm]
                if alarms?["rollback"] as? Bool ?? false {
                    rollBack(&deployment, reason: "CloudWatch alarm \(alarm) is in ALARM state.", now: enteredAt, &state)
                } else {
                    deployment.status = "STOPPED"
                    deployment.statusReason = "CloudWatch alarm \(alarm) is in ALARM state."
                    deployment.finishedAt = enteredAt
                }
                return
            }
        }
    }

    /// How long the current stage lasts: the bake times in minutes, a linear or canary shift by its steps.
    func stageLength(_ deployment: ServiceDeployment) -> Double {
        let minute = seconds(settings.minute)
        let configuration = deployment.configuration
        switch Self.stages[deployment.stage] {
        case "BAKE_TIME": return Double(configuration["bakeTimeInMinutes"] as? Int ?? 0) * minute
        case "PRODUCTION_TRAFFIC_SHIFT":
            switch deployment.strategy {
            case "LINEAR":
                let linear = configuration["linearConfiguration"] as? [String: Any]
                let step = linear?["stepPercent"] as? Double ?? 10
                let steps = (100 / step).rounded(.up)
                return max(0, steps - 1) * Double(linear?["stepBakeTimeInMinutes"] as? Int ?? 6) * minute
                    + seconds(settings.stageDuration)
            case "CANARY":
                let canary = configuration["canaryConfiguration"] as? [String: Any]
                return Double(canary?["canaryBakeTimeInMinutes"] as? Int ?? 10) * minute + seconds(settings.stageDuration)
            default: return seconds(settings.stageDuration)
            }
        default: return seconds(settings.stageDuration)
        }
    }

    /// The production traffic on the new revision while it shifts.
    func productionWeight(_ deployment: ServiceDeployment, now: Date) -> Double {
        let stage = Self.stages[deployment.stage]
        let index = Self.stages.firstIndex(of: stage) ?? 0
        if deployment.status == "SUCCESSFUL" { return 100 }
        if deployment.status.hasPrefix("ROLLBACK") { return 0 }
        guard index >= Self.stages.firstIndex(of: "PRODUCTION_TRAFFIC_SHIFT")! else { return 0 }
        guard stage == "PRODUCTION_TRAFFIC_SHIFT" else { return 100 }
        let minute = seconds(settings.minute)
        let elapsed = now.timeIntervalSince(deployment.stageEnteredAt)
        switch deployment.strategy {
        case "LINEAR":
            let linear = deployment.configuration["linearConfiguration"] as? [String: Any]
            let step = linear?["stepPercent"] as? Double ?? 10
            let bake = Double(linear?["stepBakeTimeInMinutes"] as? Int ?? 6) * minute
            return min(100, step * (1 + (bake > 0 ? (elapsed / bake).rounded(.down) : 100)))
        case "CANARY":
            let canary = deployment.configuration["canaryConfiguration"] as? [String: Any]
            let bake = Double(canary?["canaryBakeTimeInMinutes"] as? Int ?? 10) * minute
            return elapsed < bake ? canary?["canaryPercent"] as? Double ?? 5 : 100
        default: return 100
        }
    }

    func pauseHook(_ deployment: ServiceDeployment, at stage: String) -> String? {
        let hooks = deployment.configuration["lifecycleHooks"] as? [[String: Any]] ?? []
        for (index, hook) in hooks.enumerated()
        where hook["targetType"] as? String == "PAUSE" && (hook["lifecycleStages"] as? [String] ?? []).contains(stage) {
            return "hook-\(index)-\(stage.lowercased())"
        }
        return nil
    }

    /// Puts the previous revision back as the service's rollout and marks the deployment rolling back.
    func rollBack(_ deployment: inout ServiceDeployment, reason: String, now: Date, _ state: inout State) {
        deployment.status = "ROLLBACK_IN_PROGRESS"
        deployment.rollbackReason = reason
        deployment.rollbackStartedAt = now
        deployment.pausedHook = nil
        guard var service = state.services[deployment.serviceKey],
            let previous = service.rollouts.first(where: {
                $0.status == "ACTIVE" && $0.taskDefinition != deployment.taskDefinition
            })
        else { return }
        var restored = previous
        restored.status = "PRIMARY"
        restored.rolloutState = "COMPLETED"
        service.rollouts = [restored]
        service.events.insert("(service \(service.name)) rolled back to \(previous.taskDefinition): \(reason)", at: 0)
        state.services[deployment.serviceKey] = service
    }

    // MARK: Operations

    func listServiceDeployments(_ input: [String: Any], now: Date, _ state: inout State) -> [String: Any] {
        advanceServiceDeployments(now: now, &state)
        let cluster = input["cluster"] as? String ?? "default"
        let service = String((input["service"] as? String ?? "").split(separator: "/").last ?? "")
        let statuses = input["status"] as? [String]
        let after = ((input["createdAt"] as? [String: Any])?["after"] as? Double).map(Date.init(timeIntervalSince1970:))
        let found = state.serviceDeployments.filter { deployment in
            deployment.serviceKey == "\(cluster)/\(service)" && (statuses?.contains(deployment.status) ?? true)
                && (after.map { deployment.createdAt >= $0 } ?? true)
        }
        return [
            "serviceDeployments": found.reversed().map { deployment -> [String: Any] in
                var brief: [String: Any] = [
                    "serviceDeploymentArn": deployment.arn, "serviceArn": deployment.serviceArn,
                    "clusterArn": deployment.clusterArn, "createdAt": deployment.createdAt.timeIntervalSince1970,
                    "startedAt": deployment.createdAt.timeIntervalSince1970,
                    "targetServiceRevisionArn": deployment.targetRevision,
                    "status": deployment.status,
                ]
                brief["finishedAt"] = deployment.finishedAt?.timeIntervalSince1970
                brief["statusReason"] = deployment.statusReason
                return brief
            }
        ]
    }

    func describeServiceDeployments(_ input: [String: Any], now: Date, _ state: inout State) -> [String: Any] {
        advanceServiceDeployments(now: now, &state)
        var found: [[String: Any]] = []
        var failures: [[String: Any]] = []
        for arn in input["serviceDeploymentArns"] as? [String] ?? [] {
            guard let deployment = state.serviceDeployments.first(where: { $0.arn == arn }) else {
                failures.append(["arn": arn, "reason": "MISSING"])
                continue
            }
            found.append(render(deployment, desired: state.services[deployment.serviceKey]?.desired ?? 1, now: now))
        }
        return ["serviceDeployments": found, "failures": failures]
    }

    func render(_ deployment: ServiceDeployment, desired: Int, now: Date) -> [String: Any] {
        let stageIndex = deployment.stage
        let testShifted =
            stageIndex >= Self.stages.firstIndex(of: "TEST_TRAFFIC_SHIFT")! && !deployment.status.hasPrefix("ROLLBACK")
        // The replaced revision keeps its tasks until the clean-up (or gets them back in a rollback).
        let replaced = deployment.status == "SUCCESSFUL" || Self.stages[stageIndex] == "CLEAN_UP" ? 0 : desired
        var rendered: [String: Any] = [
            "serviceDeploymentArn": deployment.arn, "serviceArn": deployment.serviceArn, "clusterArn": deployment.clusterArn,
            "createdAt": deployment.createdAt.timeIntervalSince1970, "startedAt": deployment.createdAt.timeIntervalSince1970,
            "updatedAt": now.timeIntervalSince1970, "status": deployment.status,
            "sourceServiceRevisions": deployment.sourceRevisions.map {
                ["arn": $0, "requestedTaskCount": replaced, "runningTaskCount": replaced, "pendingTaskCount": 0]
            },
            "targetServiceRevision": [
                "arn": deployment.targetRevision, "requestedTaskCount": desired,
                "runningTaskCount": stageIndex >= 3 ? desired : 0, "pendingTaskCount": stageIndex >= 3 ? 0 : desired,
                "requestedTestTrafficWeight": testShifted ? 100.0 : 0.0,
                "requestedProductionTrafficWeight": productionWeight(deployment, now: now),
            ],
            "deploymentConfiguration": deployment.configuration,
        ]
        if deployment.strategy != "ROLLING" { rendered["lifecycleStage"] = Self.stages[stageIndex] }
        rendered["statusReason"] = deployment.statusReason
        rendered["finishedAt"] = deployment.finishedAt?.timeIntervalSince1970
        if let reason = deployment.rollbackReason {
            rendered["rollback"] = [
                "reason": reason, "startedAt": (deployment.rollbackStartedAt ?? now).timeIntervalSince1970,
                "serviceRevisionArn": deployment.sourceRevisions.first ?? "",
            ]
        }
        if let alarms = deployment.configuration["alarms"] as? [String: Any] {
            rendered["alarms"] = [
                "status": deployment.triggeredAlarms.isEmpty ? "MONITORING" : "TRIGGERED",
                "alarmNames": alarms["alarmNames"] ?? [], "triggeredAlarmNames": deployment.triggeredAlarms,
            ]
        }
        if let hook = deployment.pausedHook {
            rendered["lifecycleHookDetails"] = [
                ["hookId": hook, "targetType": "PAUSE", "status": "AWAITING_ACTION", "timeoutAction": "ROLLBACK"]
            ]
        }
        return rendered
    }

    func describeServiceRevisions(_ input: [String: Any], _ state: State) -> [String: Any] {
        var revisions: [[String: Any]] = []
        var failures: [[String: Any]] = []
        for arn in input["serviceRevisionArns"] as? [String] ?? [] {
            guard let deployment = state.serviceDeployments.first(where: { $0.targetRevision == arn }) else {
                failures.append(["arn": arn, "reason": "MISSING"])
                continue
            }
            revisions.append([
                "serviceRevisionArn": arn, "serviceArn": deployment.serviceArn, "clusterArn": deployment.clusterArn,
                "taskDefinition": deployment.taskDefinition, "createdAt": deployment.createdAt.timeIntervalSince1970,
            ])
        }
        return ["serviceRevisions": revisions, "failures": failures]
    }

    func stopServiceDeployment(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        advanceServiceDeployments(now: now, &state)
        let arn = input["serviceDeploymentArn"] as? String ?? ""
        guard let index = state.serviceDeployments.firstIndex(where: { $0.arn == arn }) else {
            throw Failure(type: "ServiceDeploymentNotFoundException", message: "The service deployment \(arn) does not exist.")
        }
        var deployment = state.serviceDeployments[index]
        guard !deployment.isFinished else {
            throw Failure(
                type: "ConflictException", message: "The service deployment is \(deployment.status) and cannot be stopped.")
        }
        if input["stopType"] as? String == "ABORT" {
            deployment.status = "STOPPED"
            deployment.statusReason = "Stopped by StopServiceDeployment (ABORT)."
            deployment.finishedAt = now
        } else {
            rollBack(&deployment, reason: "Rolled back by StopServiceDeployment (ROLLBACK).", now: now, &state)
            // A rolling deployment's own rollout ends with it.
            if var service = state.services[deployment.serviceKey] {
                for index in service.rollouts.indices where service.rollouts[index].taskDefinition == deployment.taskDefinition {
                    service.rollouts[index].rolloutState = "FAILED"
                }
                state.services[deployment.serviceKey] = service
            }
        }
        state.serviceDeployments[index] = deployment
        return ["serviceDeploymentArn": arn]
    }

    func continueServiceDeployment(_ input: [String: Any], now: Date, _ state: inout State) throws -> [String: Any] {
        advanceServiceDeployments(now: now, &state)
        let arn = input["serviceDeploymentArn"] as? String ?? ""
        guard let index = state.serviceDeployments.firstIndex(where: { $0.arn == arn }) else {
            throw Failure(type: "ServiceDeploymentNotFoundException", message: "The service deployment \(arn) does not exist.")
        }
        var deployment = state.serviceDeployments[index]
        let hook = input["hookId"] as? String ?? ""
        guard deployment.pausedHook == hook else {
            throw Failure(type: "InvalidParameterException", message: "The lifecycle hook \(hook) is not awaiting an action.")
        }
        deployment.answeredHooks.insert(hook)
        deployment.pausedHook = nil
        if input["action"] as? String == "ROLLBACK" {
            rollBack(&deployment, reason: "Rolled back at the lifecycle hook \(hook).", now: now, &state)
        } else {
            deployment.stageEnteredAt = now
        }
        state.serviceDeployments[index] = deployment
        return ["serviceDeploymentArn": arn]
    }
}
