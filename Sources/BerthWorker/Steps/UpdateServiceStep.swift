import AWSCore
import AWSECS
import BerthDomain
import Foundation

/// "Update ECS service", as Octopus does it through the ECS API: clone a template task definition
/// into a new revision of the target family (so no field is lost), with new images, environment
/// variables, secrets and environment files per container; then `UpdateService` with
/// `forceNewDeployment`, tag, and wait.
///
/// Properties: `serviceName`, `taskDefinitionFamily` (the service's current family by default),
/// `templateTaskDefinition` (the target family's latest revision by default), `containers`
/// (`name`, `image`, `environment`, `environmentMode` append|replace, `secrets`, `secretsMode`,
/// `environmentFiles`, `environmentFilesMode`), `desiredCount`, `tags`, `wait`, `timeoutSeconds`, and
/// how ECS shifts traffic (``DeploymentStrategySettings``; the service keeps its own when unset).
struct UpdateServiceStep {
    let run: StepRun

    struct ContainerChange: Decodable {
        enum Mode: String, Decodable {
            case append, replace
        }

        var name: String
        var image: String?
        var environment: EnvironmentValues?
        var environmentMode: Mode?
        var secrets: [ECS.Secret]?
        var secretsMode: Mode?
        var environmentFiles: [ECS.EnvironmentFile]?
        var environmentFilesMode: Mode?
    }

    /// `{"KEY": "value"}` or `[{"name": "KEY", "value": "value"}]`.
    struct EnvironmentValues: Decodable, FreeFormJSONObject {
        var pairs: [ECS.KeyValuePair]

        init(from decoder: any Decoder) throws {
            if let object = try? decoder.singleValueContainer().decode([String: String].self) {
                pairs = object.sorted { $0.key < $1.key }.map { ECS.KeyValuePair(name: $0.key, value: $0.value) }
            } else {
                pairs = try decoder.singleValueContainer().decode([ECS.KeyValuePair].self)
            }
        }
    }

    func execute() async throws -> StepOutcome {
        let properties = run.properties
        guard let target = run.target else { return .failed("An Update ECS service step needs a target.") }
        let serviceName = try properties.requiredString("serviceName")
        let changes = try properties.decode("containers", as: [ContainerChange].self) ?? []
        let desiredCount = try properties.int("desiredCount", in: 0...5000)
        let wait = try properties.waitOption()
        let strategy = try DeploymentStrategySettings.read(properties)
        let verify = try properties.bool("verify") ?? false
        let tags = try run.tags()
        let ecs = try run.ecs()
        let cluster = target.clusterName

        guard
            let service = try await ecs.describeServices(ECS.DescribeServicesRequest(services: [serviceName], cluster: cluster))
                .services?.first(where: { $0.serviceName == serviceName && $0.status == "ACTIVE" })
        else {
            return .failed(
                "The service \(serviceName) does not exist in the cluster \(cluster) (\(target.region)); an Update step changes an existing service — use a Deploy step to create it."
            )
        }
        let currentFamily = service.taskDefinition.map(RolloutTracker.revision(of:))?.split(separator: ":").first.map(String.init)
        guard let family = try properties.string("taskDefinitionFamily") ?? currentFamily else {
            throw properties.failure("taskDefinitionFamily", "is required: the service has no task definition")
        }
        let templateReference = try properties.string("templateTaskDefinition") ?? family
        let familyExists: ECS.TaskDefinition?
        do {
            familyExists = try await ecs.describeTaskDefinition(ECS.DescribeTaskDefinitionRequest(taskDefinition: family))
                .taskDefinition
        } catch let error as AWSError where error.code.rawValue == "ClientException" {
            familyExists = nil
        }
        guard familyExists != nil else {
            return .failed("The task definition family \(family) does not exist in \(target.region); check taskDefinitionFamily.")
        }
        let template = try await ecs.describeTaskDefinition(
            ECS.DescribeTaskDefinitionRequest(taskDefinition: templateReference, include: [.tags]))
        guard let templateDefinition = template.taskDefinition else {
            return .failed("The template task definition \(templateReference) was not found.")
        }
        await run.log.info(
            "Template: \(templateDefinition.taskDefinitionArn.map(RolloutTracker.revision(of:)) ?? templateReference); new revision of \(family)."
        )
        var containers = templateDefinition.containerDefinitions ?? []
        var errors = ValidationErrors()
        for change in changes {
            guard let index = containers.firstIndex(where: { $0.name == change.name }) else {
                let known = containers.compactMap(\.name).joined(separator: ", ")
                errors.add("containers", "the template has no container '\(change.name)' (it has: \(known))")
                continue
            }
            if let image = run.images[change.name] ?? change.image { containers[index].image = image }
            if let environment = change.environment?.pairs {
                containers[index].environment = Self.merge(
                    containers[index].environment ?? [], environment, mode: change.environmentMode ?? .append, key: \.name)
            }
            if let secrets = change.secrets {
                containers[index].secrets = Self.merge(
                    containers[index].secrets ?? [], secrets, mode: change.secretsMode ?? .append, key: \.name)
            }
            if let files = change.environmentFiles {
                containers[index].environmentFiles = Self.merge(
                    containers[index].environmentFiles ?? [], files, mode: change.environmentFilesMode ?? .append, key: \.value)
            }
        }
        for (name, image) in run.images.sorted(by: { $0.key < $1.key }) where !changes.contains(where: { $0.name == name }) {
            if let index = containers.firstIndex(where: { $0.name == name }) { containers[index].image = image }
        }
        if !errors.isEmpty {
            return .failed(
                "Step '\(run.stepName)': " + errors.details.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
        }
        let templateTags = (template.tags ?? []).filter { tag in !tags.contains { $0.key == tag.key } }
        let request = ECS.RegisterTaskDefinitionRequest(
            family: family, containerDefinitions: containers, taskRoleArn: templateDefinition.taskRoleArn,
            executionRoleArn: templateDefinition.executionRoleArn, networkMode: templateDefinition.networkMode,
            volumes: templateDefinition.volumes,
            placementConstraints: templateDefinition.placementConstraints,
            requiresCompatibilities: templateDefinition.requiresCompatibilities, cpu: templateDefinition.cpu,
            memory: templateDefinition.memory, tags: templateTags + tags, pidMode: templateDefinition.pidMode,
            ipcMode: templateDefinition.ipcMode, proxyConfiguration: templateDefinition.proxyConfiguration,
            inferenceAccelerators: templateDefinition.inferenceAccelerators,
            ephemeralStorage: templateDefinition.ephemeralStorage,
            runtimePlatform: templateDefinition.runtimePlatform, enableFaultInjection: templateDefinition.enableFaultInjection)

        switch run.job.mode {
        case .verify?:
            return try await Preflight(
                run: run, definition: request, loadBalancers: service.loadBalancers ?? [],
                network: service.networkConfiguration, launchType: service.launchType
            ).outcome()
        case .diff?:
            var settings: [(String, JSONValue)] = []
            if let desiredCount { settings.append(("desiredCount", .number(Double(desiredCount)))) }
            if DeploymentStrategySettings.isSet(in: properties) {
                var changed = service.deploymentConfiguration ?? ECS.DeploymentConfiguration()
                strategy.apply(to: &changed)
                settings.append(("deploymentConfiguration", try ServiceDiff.json(changed)))
            }
            return try await ServiceDiff(run: run, ecs: ecs, serviceName: serviceName, settings: .object(settings)).report(
                request)
        case nil:
            break
        }
        let rollout = ServiceRollout(
            run: run, ecs: ecs, target: target, serviceName: serviceName, wait: wait, strategy: strategy)
        // The service's deployment configuration is changed only where the step sets the strategy.
        var configuration: ECS.DeploymentConfiguration?
        if DeploymentStrategySettings.isSet(in: properties) {
            var changed = service.deploymentConfiguration ?? ECS.DeploymentConfiguration()
            strategy.apply(to: &changed)
            configuration = changed
        }
        return try await rollout.locked {
            if verify, rollout.earlier?.taskDefinitionARN == nil {
                let results = try await Preflight(
                    run: run, definition: request, loadBalancers: service.loadBalancers ?? [],
                    network: service.networkConfiguration, launchType: service.launchType
                ).check()
                if let failure = Preflight.failure(results) { return .failed(failure) }
            }
            let (definition, arn) = try await rollout.register(request)
            if let changedAt = rollout.changedEarlier {
                await run.log.info(
                    "The service \(serviceName) was already updated to \(RolloutTracker.revision(of: arn)) at \(changedAt.ISO8601Format()); watching that rollout."
                )
                return try await rollout.finish(definition, arn: arn, family: family, service: service, changedAt: changedAt)
            }
            // An earlier run may have updated the service and stopped before recording it: a
            // second forced deployment of the same revision would restart its tasks for nothing
            // (or, after ECS rolled it back, roll the bad revision out again).
            if rollout.earlier?.taskDefinitionARN != nil, let current = try await rollout.describeService(),
                current.taskDefinition == arn || (current.deployments ?? []).contains(where: { $0.taskDefinition == arn })
            {
                await run.log.info("The service \(serviceName) already runs toward \(RolloutTracker.revision(of: arn)).")
                let changedAt = try await rollout.recordChange()
                return try await rollout.finish(definition, arn: arn, family: family, service: service, changedAt: changedAt)
            }
            _ = try await ecs.updateService(
                ECS.UpdateServiceRequest(
                    service: serviceName, cluster: cluster, desiredCount: desiredCount, taskDefinition: arn,
                    deploymentConfiguration: configuration, forceNewDeployment: true))
            if let serviceARN = service.serviceArn {
                _ = try await ecs.tagResource(ECS.TagResourceRequest(resourceArn: serviceARN, tags: tags))
            }
            let changedAt = try await rollout.recordChange()
            await run.log.info("Updated the service \(serviceName) to \(RolloutTracker.revision(of: arn)) with a new deployment.")
            return try await rollout.finish(definition, arn: arn, family: family, service: service, changedAt: changedAt)
        }
    }

    /// `replace` keeps only the new values; `append` replaces same-named ones and adds the rest.
    static func merge<Value>(_ old: [Value], _ new: [Value], mode: ContainerChange.Mode, key: KeyPath<Value, String?>) -> [Value]
    {
        if mode == .replace { return new }
        var merged = old.filter { item in !new.contains { $0[keyPath: key] == item[keyPath: key] } }
        merged += new
        return merged
    }
}
