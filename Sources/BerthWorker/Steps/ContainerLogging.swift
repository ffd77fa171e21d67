import AWSCloudWatchLogs
import AWSCore
import AWSECS
import BerthDomain

/// The Deploy ECS service step's `logGroup`: containers that name no log configuration of their own
/// write to CloudWatch Logs (the awslogs driver, stream prefix `ecs`), in a group Berth creates when
/// it is missing — `auto` is `/ecs/<family>`, as Octopus's automatic logging — with
/// `logRetentionDays` applied when given.
struct ContainerLogging: Equatable {
    let group: String
    let retentionDays: Int?

    static let streamPrefix = "ecs"
    /// The retention periods CloudWatch Logs accepts.
    static let retentionChoices = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ]

    /// The step's choice, or nil when it has no `logGroup`.
    static func settings(_ properties: StepProperties, family: String) throws(BerthError) -> ContainerLogging? {
        let retention = try retentionDays(properties)
        guard let group = try group(properties, family: family) else { return nil }
        return ContainerLogging(group: group, retentionDays: retention)
    }

    /// `logGroup`: `auto` is `/ecs/<family>`; anything else must be a valid group name.
    static func group(_ properties: StepProperties, family: String) throws(BerthError) -> String? {
        guard let name = try properties.string("logGroup"), !name.isEmpty else { return nil }
        let group = name == "auto" ? "/ecs/\(family)" : name
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/#")
        guard group.count <= 512, group.allSatisfy(allowed.contains) else {
            throw properties.failure(
                "logGroup",
                "must be auto or a CloudWatch Logs group name of at most 512 letters, digits and . _ - / # (got '\(group)')")
        }
        return group
    }

    /// `logRetentionDays`, one of the periods CloudWatch Logs accepts, and only with a `logGroup`.
    static func retentionDays(_ properties: StepProperties) throws(BerthError) -> Int? {
        guard let days = try properties.int("logRetentionDays") else { return nil }
        guard retentionChoices.contains(days) else {
            throw properties.failure(
                "logRetentionDays", "must be one of \(retentionChoices.map(String.init).joined(separator: ", ")) (got \(days))")
        }
        guard properties.has("logGroup") else {
            throw properties.failure("logRetentionDays", "needs a logGroup (auto or a name)")
        }
        return days
    }

    /// Gives every container without a log configuration the awslogs driver; returns their names.
    func apply(to definition: inout ECS.RegisterTaskDefinitionRequest, region: String) throws(BerthError) -> [String] {
        var configured: [String] = []
        for index in definition.containerDefinitions.indices where definition.containerDefinitions[index].logConfiguration == nil
        {
            definition.containerDefinitions[index].logConfiguration = ECS.LogConfiguration(
                logDriver: .awslogs,
                options: ["awslogs-group": group, "awslogs-region": region, "awslogs-stream-prefix": Self.streamPrefix])
            configured.append(definition.containerDefinitions[index].name ?? "container \(index + 1)")
        }
        let fargate = definition.requiresCompatibilities?.contains { $0.rawValue == "FARGATE" } ?? false
        if !configured.isEmpty, fargate, definition.executionRoleArn == nil {
            throw BerthError(
                .validationFailed,
                "The task definition '\(definition.family)' needs an executionRoleArn for logGroup: on Fargate, ECS writes the containers' logs with the execution role."
            )
        }
        return configured
    }

    /// Creates the group unless it exists (tagged like everything the step creates), then sets its
    /// retention when one was asked for.
    func ensureGroup(_ logs: CloudWatchLogsClient, tags: [String: String], log: LogSection) async throws {
        do {
            try await logs.createLogGroup(CloudWatchLogs.CreateLogGroupRequest(logGroupName: group, tags: tags))
            await log.info("Created the CloudWatch Logs group \(group).")
        } catch let error as AWSError where error.code == "ResourceAlreadyExistsException" {
            await log.info("The CloudWatch Logs group \(group) exists.")
        }
        if let retentionDays {
            try await logs.putRetentionPolicy(
                CloudWatchLogs.PutRetentionPolicyRequest(logGroupName: group, retentionInDays: retentionDays))
            await log.info("Log events in \(group) are kept \(retentionDays) days.")
        }
    }
}
