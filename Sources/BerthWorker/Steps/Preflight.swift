import AWSCloudWatchLogs
import AWSCore
import AWSECR
import AWSECS
import AWSELBv2
import AWSIAM
import AWSSSM
import AWSSecretsManager
import BerthDomain
import Foundation

/// `verify: true` on a service step: before anything changes, checks with the step's own
/// credentials what ECS would otherwise find wrong halfway through a rollout — the task and
/// execution roles exist and trust `ecs-tasks.amazonaws.com`, every ECR image exists, every secret
/// and parameter a container reads exists, the target groups exist and their containers expose
/// the port, and an awsvpc task has its network configuration. One line per check (ok, failed
/// with AWS's words, or skipped and why); any failure fails the step before the task definition
/// is registered. (The cluster was checked before the step started.)
struct Preflight {
    enum Result: Equatable {
        case ok(String)
        case failed(String)
        case skipped(String)
    }

    let run: StepRun
    let definition: ECS.RegisterTaskDefinitionRequest
    var loadBalancers: [ECS.LoadBalancer] = []
    var network: ECS.NetworkConfiguration?
    var launchType: ECS.LaunchType?
    /// The log group Berth itself creates at deploy (`logGroup`), if the step has one.
    var berthLogGroup: String?

    /// The checks' results, in order; logged as they are made.
    func check() async throws -> [Result] {
        var results: [Result] = []
        func note(_ result: Result) async {
            results.append(result)
            switch result {
            case .ok(let text): await run.log.info("Verify ✓ \(text)")
            case .failed(let text): await run.log.error("Verify ✗ \(text)")
            case .skipped(let text): await run.log.info("Verify – \(text)")
            }
        }
        for (label, arn) in [("task role", definition.taskRoleArn), ("execution role", definition.executionRoleArn)] {
            guard let arn, !arn.isEmpty else { continue }
            await note(try await role(label, arn))
        }
        for container in definition.containerDefinitions {
            if let image = container.image { await note(try await self.image(image, container: container.name ?? "?")) }
            for secret in container.secrets ?? [] {
                await note(
                    try await self.secret(secret.valueFrom ?? "", name: secret.name ?? "?", container: container.name ?? "?"))
            }
        }
        for result in try await targetGroups() { await note(result) }
        for result in try await logGroups() { await note(result) }
        if let result = awsvpc() { await note(result) }
        return results
    }

    // MARK: Roles

    func role(_ label: String, _ arn: String) async throws -> Result {
        guard let name = IAMClient.roleName(of: arn) else { return .failed("\(label) \(arn): not a role ARN") }
        let iam = IAMClient(client: try client(.iam))
        do {
            let role = try await iam.getRole(named: name)
            let trusted: Set<String>
            do {
                trusted = try role.trustedServices()
            } catch {
                return .failed("\(label) \(arn) exists, but its trust policy could not be read: \(error.message)")
            }
            guard trusted.contains("ecs-tasks.amazonaws.com") else {
                return .failed(
                    "\(label) \(arn) exists but does not trust ecs-tasks.amazonaws.com (it trusts \(trusted.sorted().joined(separator: ", ").nonEmpty ?? "no service")); ECS cannot use it"
                )
            }
            return .ok("\(label) \(arn) exists and trusts ecs-tasks.amazonaws.com")
        } catch let error as AWSError {
            return Self.refusal("\(label) \(arn)", error)
        }
    }

    // MARK: Images

    /// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`.
    static func ecrReference(_ image: String) -> (
        registry: String, region: String, repository: String, tag: String?, digest: String?
    )? {
        guard let slash = image.firstIndex(of: "/") else { return nil }
        let host = image[..<slash]
        let parts = host.split(separator: ".")
        guard parts.count >= 6, parts[1] == "dkr", parts[2] == "ecr", parts[0].allSatisfy(\.isNumber) else { return nil }
        var rest = String(image[image.index(after: slash)...])
        var digest: String?
        var tag: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = String(rest[..<at])
            // `repository:tag@digest` names the digest; the tag is only a label.
            if let colon = rest.lastIndex(of: ":") { rest = String(rest[..<colon]) }
        } else if let colon = rest.lastIndex(of: ":") {
            tag = String(rest[rest.index(after: colon)...])
            rest = String(rest[..<colon])
        }
        return (String(parts[0]), String(parts[3]), rest, tag ?? (digest == nil ? "latest" : nil), digest)
    }

    func image(_ image: String, container: String) async throws -> Result {
        guard let reference = Self.ecrReference(image) else {
            return .skipped("image \(image) (\(container)): not in ECR; other registries are not checked")
        }
        let ecr = ECRClient(client: try client(.ecr, region: reference.region))
        do {
            let found = try await ecr.describeImages(
                ECR.DescribeImagesRequest(
                    repositoryName: reference.repository, registryId: reference.registry,
                    imageIds: [ECR.ImageIdentifier(imageDigest: reference.digest, imageTag: reference.tag)]))
            guard let described = found.imageDetails?.first else {
                return .failed("image \(image) (\(container)): ECR has no such image")
            }
            return .ok("image \(image) (\(container)) exists in ECR (\(described.imageDigest ?? "no digest"))")
        } catch let error as AWSError {
            return Self.refusal("image \(image) (\(container))", error)
        }
    }

    // MARK: Secrets

    func secret(_ valueFrom: String, name: String, container: String) async throws -> Result {
        let label = "secret \(name) (\(container)) from \(valueFrom)"
        let parts = valueFrom.split(separator: ":", omittingEmptySubsequences: false)
        if valueFrom.hasPrefix("arn:"), parts.count >= 7, parts[2] == "secretsmanager" {
            // `arn:…:secret:name-AbCdEf[:json-key:version-stage:version-id]`: the secret is the first seven parts.
            let secretARN = parts.prefix(7).joined(separator: ":")
            let manager = SecretsManagerClient(client: try client(.secretsManager, region: String(parts[3])))
            do {
                let described = try await manager.describeSecret(SecretsManager.DescribeSecretRequest(SecretId: secretARN))
                if described.DeletedDate != nil { return .failed("\(label): the secret is scheduled for deletion") }
                return .ok("\(label) exists in Secrets Manager")
            } catch let error as AWSError {
                return Self.refusal("\(label)", error)
            }
        }
        let parameter: String
        var region = run.target?.region ?? run.region
        if valueFrom.hasPrefix("arn:") {
            guard parts.count >= 6, parts[2] == "ssm", parts[5].hasPrefix("parameter") else {
                return .skipped("\(label): neither a Secrets Manager secret nor an SSM parameter")
            }
            region = String(parts[3])
            // `parameter/name` names `name`; `parameter/app/db` names `/app/db`.
            let rest = parts[5...].joined(separator: ":").dropFirst("parameter/".count)
            parameter = rest.contains("/") ? "/" + rest : String(rest)
        } else {
            parameter = valueFrom
        }
        let ssm = SSMClient(client: try client(.ssm, region: region))
        do {
            let found = try await ssm.describeParameters(
                SSM.DescribeParametersRequest(
                    ParameterFilters: [SSM.ParameterStringFilter(Key: "Name", Option: "Equals", Values: [parameter])]))
            guard let match = found.Parameters?.first(where: { $0.Name == parameter }) else {
                return .failed("\(label): SSM has no parameter \(parameter)")
            }
            return .ok("\(label) exists in SSM Parameter Store (\(match.`Type`?.rawValue ?? "?"))")
        } catch let error as AWSError {
            return Self.refusal("\(label)", error)
        }
    }

    // MARK: Load balancing and network

    func targetGroups() async throws -> [Result] {
        var arns: [(arn: String, container: String?, port: Int?)] = []
        for balancer in loadBalancers {
            if let arn = balancer.targetGroupArn { arns.append((arn, balancer.containerName, balancer.containerPort)) }
            if let alternate = balancer.advancedConfiguration?.alternateTargetGroupArn {
                arns.append((alternate, balancer.containerName, balancer.containerPort))
            }
        }
        guard !arns.isEmpty else { return [] }
        let elb = ELBv2Client(client: try client(.elbv2))
        var results: [Result] = []
        for entry in arns {
            do {
                guard try await elb.describeTargetGroups(arns: [entry.arn]).contains(where: { $0.arn == entry.arn }) else {
                    results.append(.failed("target group \(entry.arn): not found"))
                    continue
                }
            } catch let error as AWSError {
                results.append(Self.refusal("target group \(entry.arn)", error))
                continue
            }
            guard let name = entry.container, let port = entry.port else {
                results.append(.ok("target group \(entry.arn) exists"))
                continue
            }
            let container = definition.containerDefinitions.first { $0.name == name }
            let ports = (container?.portMappings ?? []).compactMap(\.containerPort)
            if container == nil {
                results.append(.failed("target group \(entry.arn): the task definition has no container \(name)"))
            } else if !ports.contains(port) {
                results.append(
                    .failed(
                        "target group \(entry.arn): the container \(name) maps no port \(port) (it maps \(ports.map(String.init).joined(separator: ", ").nonEmpty ?? "none"))"
                    ))
            } else {
                results.append(.ok("target group \(entry.arn) exists; \(name) serves it on port \(port)"))
            }
        }
        return results
    }

    // MARK: Log groups

    /// Every CloudWatch Logs group the containers write to (awslogs) exists, or something creates
    /// it: Berth (the step's `logGroup`) or ECS (`awslogs-create-group`). Otherwise the tasks
    /// would fail to start.
    func logGroups() async throws -> [Result] {
        var groups: [(name: String, region: String, createdByECS: Bool)] = []
        for container in definition.containerDefinitions {
            guard let configuration = container.logConfiguration, configuration.logDriver == .awslogs,
                let name = configuration.options?["awslogs-group"], !groups.contains(where: { $0.name == name })
            else { continue }
            groups.append(
                (
                    name, configuration.options?["awslogs-region"] ?? run.target?.region ?? run.region,
                    configuration.options?["awslogs-create-group"] == "true"
                ))
        }
        var results: [Result] = []
        for group in groups {
            let logs = CloudWatchLogsClient(client: try client(.cloudWatchLogs, region: group.region))
            do {
                let found = try await logs.describeLogGroups(
                    CloudWatchLogs.DescribeLogGroupsRequest(logGroupNamePrefix: group.name))
                if (found.logGroups ?? []).contains(where: { $0.logGroupName == group.name }) {
                    results.append(.ok("log group \(group.name) exists"))
                } else if group.name == berthLogGroup {
                    results.append(
                        .skipped(
                            "log group \(group.name) does not exist yet: Berth creates it when it deploys (logs:CreateLogGroup)"))
                } else if group.createdByECS {
                    results.append(.skipped("log group \(group.name) does not exist yet: ECS creates it (awslogs-create-group)"))
                } else {
                    results.append(
                        .failed(
                            "log group \(group.name) does not exist, and nothing creates it: the tasks would fail to start (set logGroup on the step, or awslogs-create-group)"
                        ))
                }
            } catch let error as AWSError {
                results.append(Self.refusal("log group \(group.name)", error))
            }
        }
        return results
    }

    /// An awsvpc task (Fargate's only mode) needs subnets.
    func awsvpc() -> Result? {
        let fargate = launchType == .fargate || (definition.requiresCompatibilities ?? []).contains(.fargate)
        guard definition.networkMode == .awsvpc || fargate else { return nil }
        guard let subnets = network?.awsvpcConfiguration?.subnets, !subnets.isEmpty else {
            return .failed("network: an awsvpc task needs networkConfiguration.awsvpcConfiguration.subnets")
        }
        return .ok("network: awsvpc with \(subnets.count) subnet\(subnets.count == 1 ? "" : "s")")
    }

    func client(_ service: AWSServiceDescriptor, region: String? = nil) throws -> AWSClient {
        guard let credentials = run.credentials else {
            throw BerthError(.internalError, "Step '\(run.stepName)' needs credentials to verify.")
        }
        return try run.configuration.client(
            for: service, region: region ?? run.target?.region ?? run.region, credentials: credentials.provider)
    }

    /// The checks, as a step's whole outcome (`berth release verify`).
    func outcome() async throws -> StepOutcome {
        let results = try await check()
        if let failure = Self.failure(results) { return .failed(failure) }
        let skipped = results.filter { if case .skipped = $0 { true } else { false } }.count
        return StepOutcome(
            state: .succeeded,
            message: "\(results.count - skipped) check\(results.count - skipped == 1 ? "" : "s") passed, \(skipped) skipped")
    }

    /// What AWS refused: a missing permission of the step's credentials (AccessDenied) is no
    /// finding about the release, so the check is skipped and says why; anything else fails it.
    static func refusal(_ label: String, _ error: AWSError) -> Result {
        if error.code == .accessDenied || error.code == .accessDeniedException || error.statusCode == 403 {
            return .skipped("\(label): could not check, the step's credentials may not (\(error.code): \(error.message))")
        }
        return .failed("\(label): \(error.code): \(error.message)")
    }

    /// The step's outcome when a check failed.
    static func failure(_ results: [Result]) -> String? {
        let failed = results.compactMap { if case .failed(let text) = $0 { text } else { nil } }
        guard !failed.isEmpty else { return nil }
        return "verify found \(failed.count) problem\(failed.count == 1 ? "" : "s"); nothing was changed: "
            + failed.joined(separator: "; ")
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
