import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// "Deploy ECS service": registers the task definition the step describes (with the release's
/// images), creates the service when the cluster has none of that name and updates it otherwise,
/// then waits for the rollout. Fargate and EC2, straight through the ECS API.
///
/// Properties: `serviceName`, `taskDefinition` (what `aws ecs register-task-definition
/// --cli-input-json` accepts), `desiredCount` (1), `minimumHealthyPercent` (100), `maximumPercent`
/// (200), `circuitBreaker` (`{enable: true, rollback: true}`), `networkConfiguration`,
/// `loadBalancers`, `launchType` or `capacityProviderStrategy`, `platformVersion`,
/// `healthCheckGracePeriodSeconds`, `enableExecuteCommand`, `enableECSManagedTags`, `propagateTags`, `tags`, `logGroup` and
/// `logRetentionDays` (see ``ContainerLogging``), `wait`, `timeoutSeconds`, and how ECS shifts
/// traffic (see ``DeploymentStrategySettings``); `verify: true` runs the ``Preflight`` first.
struct DeployServiceStep {
    let run: StepRun

    func execute() async throws -> StepOutcome {
        let properties = run.properties
        guard let target = run.target else { return .failed("A Deploy ECS service step needs a target.") }
        let serviceName = try properties.requiredString("serviceName")
        guard var taskDefinition = try properties.decode("taskDefinition", as: ECS.RegisterTaskDefinitionRequest.self) else {
            throw properties.failure("taskDefinition", "is required (the task definition, as register-task-definition takes it)")
        }
        for index in taskDefinition.containerDefinitions.indices {
            if let name = taskDefinition.containerDefinitions[index].name, let image = run.images[name] {
                taskDefinition.containerDefinitions[index].image = image
            }
        }
        let logging = try ContainerLogging.settings(properties, family: taskDefinition.family)
        let loggedContainers = try logging?.apply(to: &taskDefinition, region: target.region) ?? []
        let tags = try run.tags()
        taskDefinition.tags =
            (taskDefinition.tags ?? []) + tags.filter { tag in !(taskDefinition.tags ?? []).contains { $0.key == tag.key } }
        var strategy = try DeploymentStrategySettings.read(properties)
        strategy.isExplicit = true
        var deploymentConfiguration = ECS.DeploymentConfiguration(
            deploymentCircuitBreaker: try circuitBreaker(),
            maximumPercent: try properties.int("maximumPercent", in: 100...200) ?? 200,
            minimumHealthyPercent: try properties.int("minimumHealthyPercent", in: 0...100) ?? 100)
        let desiredCount = try properties.int("desiredCount", in: 0...5000) ?? 1
        let launchType = try properties.string("launchType").map(ECS.LaunchType.init(rawValue:))
        let capacityProviders = try properties.decode("capacityProviderStrategy", as: [ECS.CapacityProviderStrategyItem].self)
        if launchType != nil, capacityProviders != nil {
            throw properties.failure("launchType", "and capacityProviderStrategy cannot both be set")
        }
        let network = try properties.decode("networkConfiguration", as: ECS.NetworkConfiguration.self)
        let loadBalancers = try properties.decode("loadBalancers", as: [ECS.LoadBalancer].self)
        try strategy.checkLoadBalancers(loadBalancers, properties)
        strategy.apply(to: &deploymentConfiguration)
        let platformVersion = try properties.string("platformVersion")
        let grace = try properties.int("healthCheckGracePeriodSeconds", in: 0...2_147_483_647)
        let executeCommand = try properties.bool("enableExecuteCommand")
        let managedTags = try properties.bool("enableECSManagedTags")
        let propagateTags = try properties.string("propagateTags").map(ECS.PropagateTags.init(rawValue:)) ?? .service
        let wait = try properties.waitOption()
        let verify = try properties.bool("verify") ?? false
        let ecs = try run.ecs()
        let cluster = target.clusterName

        switch run.job.mode {
        case .verify?:
            return try await Preflight(
                run: run, definition: taskDefinition, loadBalancers: loadBalancers ?? [], network: network,
                launchType: launchType, berthLogGroup: loggedContainers.isEmpty ? nil : logging?.group
            ).outcome()
        case .diff?:
            var settings = try ServiceDiff.json(
                ECS.UpdateServiceRequest(
                    service: serviceName, desiredCount: desiredCount, capacityProviderStrategy: capacityProviders,
                    deploymentConfiguration: deploymentConfiguration, networkConfiguration: network,
                    platformVersion: platformVersion, healthCheckGracePeriodSeconds: grace, enableExecuteCommand: executeCommand,
                    enableECSManagedTags: managedTags, loadBalancers: loadBalancers, propagateTags: propagateTags))
            if case .object(let members) = settings {
                settings = .object(
                    members.filter { $0.0 != "service" } + (launchType.map { [("launchType", .string($0.rawValue))] } ?? []))
            }
            return try await ServiceDiff(run: run, ecs: ecs, serviceName: serviceName, settings: settings).report(taskDefinition)
        case nil:
            break
        }
        let rollout = ServiceRollout(
            run: run, ecs: ecs, target: target, serviceName: serviceName, wait: wait, strategy: strategy)
        return try await rollout.locked {
            if let changedAt = rollout.changedEarlier, let arn = rollout.earlier?.taskDefinitionARN {
                let (definition, _) = try await rollout.register(taskDefinition)
                await run.log.info(
                    "The service \(serviceName) was already changed to \(RolloutTracker.revision(of: arn)) at \(changedAt.ISO8601Format()); watching that rollout."
                )
                return try await rollout.finish(
                    definition, arn: arn, family: taskDefinition.family, service: try await rollout.describeService(),
                    changedAt: changedAt)
            }
            // Checked before anything is created, the log group too.
            if verify, rollout.earlier?.taskDefinitionARN == nil {
                let results = try await Preflight(
                    run: run, definition: taskDefinition, loadBalancers: loadBalancers ?? [], network: network,
                    launchType: launchType, berthLogGroup: loggedContainers.isEmpty ? nil : logging?.group
                ).check()
                if let failure = Preflight.failure(results) { return .failed(failure) }
            }
            if let logging, rollout.earlier?.taskDefinitionARN == nil {
                if loggedContainers.isEmpty {
                    await run.log.info("Every container has its own log configuration; logGroup \(logging.group) is not used.")
                } else {
                    await run.log.info(
                        "\(loggedContainers.joined(separator: ", ")) log to CloudWatch Logs: group \(logging.group), stream prefix \(ContainerLogging.streamPrefix)."
                    )
                    try await logging.ensureGroup(try run.logs(), tags: try run.tagValues(), log: run.log)
                }
            }
            let (definition, arn) = try await rollout.register(taskDefinition)
            // An earlier run may have created the service and stopped before recording it: then it
            // exists now and is updated to the same revision, which starts no second rollout.
            let existing = try await rollout.describeService()
            let service: ECS.Service?
            if let existing {
                service = try await ecs.updateService(
                    ECS.UpdateServiceRequest(
                        service: serviceName, cluster: cluster, desiredCount: desiredCount, taskDefinition: arn,
                        capacityProviderStrategy: capacityProviders, deploymentConfiguration: deploymentConfiguration,
                        networkConfiguration: network, platformVersion: platformVersion, healthCheckGracePeriodSeconds: grace,
                        enableExecuteCommand: executeCommand, enableECSManagedTags: managedTags, loadBalancers: loadBalancers,
                        propagateTags: propagateTags)
                ).service
                if let serviceARN = existing.serviceArn {
                    _ = try await ecs.tagResource(ECS.TagResourceRequest(resourceArn: serviceARN, tags: tags))
                }
                await run.log.info(
                    "Updated the service \(serviceName) in \(cluster): \(desiredCount) tasks of \(RolloutTracker.revision(of: arn))."
                )
            } else {
                service = try await ecs.createService(
                    ECS.CreateServiceRequest(
                        serviceName: serviceName, cluster: cluster, taskDefinition: arn, loadBalancers: loadBalancers,
                        desiredCount: desiredCount, clientToken: run.checkpoint.key.clientToken(taskID: run.taskID),
                        launchType: launchType, capacityProviderStrategy: capacityProviders,
                        platformVersion: platformVersion, deploymentConfiguration: deploymentConfiguration,
                        networkConfiguration: network, healthCheckGracePeriodSeconds: grace, tags: tags,
                        enableECSManagedTags: managedTags, propagateTags: propagateTags, enableExecuteCommand: executeCommand)
                ).service
                await run.log.info(
                    "Created the service \(serviceName) in \(cluster): \(desiredCount) tasks of \(RolloutTracker.revision(of: arn))."
                )
            }
            let changedAt = try await rollout.recordChange()
            return try await rollout.finish(
                definition, arn: arn, family: taskDefinition.family, service: service ?? existing, changedAt: changedAt)
        }
    }

    /// On by default, with rollback: a deployment that cannot start tasks puts the last good
    /// revision back instead of retrying forever.
    func circuitBreaker() throws(BerthError) -> ECS.DeploymentCircuitBreaker {
        guard let settings = try run.properties.decode("circuitBreaker", as: ECS.DeploymentCircuitBreaker.self) else {
            return ECS.DeploymentCircuitBreaker(enable: true, rollback: true)
        }
        return ECS.DeploymentCircuitBreaker(enable: settings.enable ?? true, rollback: settings.rollback ?? true)
    }
}
