import AWSCloudWatchLogs
import AWSCore
import AWSECS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// A task definition with most of what users put in one, in `--cli-input-json` form.
let richTaskDefinition = #"""
    {
      "family": "web",
      "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
      "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
      "networkMode": "awsvpc",
      "requiresCompatibilities": ["FARGATE"],
      "cpu": "512",
      "memory": "1024",
      "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
      "containerDefinitions": [
        {
          "name": "app",
          "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
          "essential": true,
          "cpu": 256,
          "memory": 512,
          "memoryReservation": 256,
          "portMappings": [{"containerPort": 8080, "protocol": "tcp", "name": "http", "appProtocol": "http"}],
          "environment": [{"name": "MODE", "value": "production"}, {"name": "EMPTY", "value": ""}],
          "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"}],
          "entryPoint": ["/bin/sh", "-c"],
          "command": ["exec ./server --port 8080"],
          "workingDirectory": "/srv",
          "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 30},
          "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "web"}},
          "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp/scratch", "readOnly": false}],
          "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
          "dockerLabels": {"team": "web", "tier": "frontend"},
          "readonlyRootFilesystem": true,
          "stopTimeout": 30,
          "dependsOn": [{"containerName": "sidecar", "condition": "HEALTHY"}],
          "linuxParameters": {"initProcessEnabled": true, "capabilities": {"drop": ["NET_RAW"]}}
        },
        {
          "name": "sidecar",
          "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0",
          "essential": false,
          "cpu": 128,
          "memory": 256,
          "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:reg-XyZ"},
          "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}}
        }
      ],
      "volumes": [{"name": "scratch"}],
      "ephemeralStorage": {"sizeInGiB": 30},
      "tags": [{"key": "project", "value": "web"}]
    }
    """#

/// Whether every member of `sent` comes back in `returned` with the same value (the service may add
/// defaults of its own).
func isSubset(_ sent: Any, of returned: Any) -> Bool {
    switch (sent, returned) {
    case let (sent as [String: Any], returned as [String: Any]):
        return sent.allSatisfy { key, value in returned[key].map { isSubset(value, of: $0) } ?? false }
    case let (sent as [Any], returned as [Any]):
        return sent.count == returned.count && zip(sent, returned).allSatisfy { isSubset($0, of: $1) }
    default:
        return "\(sent)" == "\(returned)"
    }
}

@Suite("ECS and CloudWatch Logs against moto with signature validation")
struct MotoECSTests {
    @Test("cluster, rich task definition, service create/update/describe, run/describe/stop a task")
    func ecsRoundTrip() async throws {
        try await withMoto { moto, administrator in
            let ecs = ECSClient(client: try moto.client(for: .ecs, credentials: administrator))

            let cluster = try await ecs.createCluster(.init(clusterName: "berth-it", tags: [.init(key: "env", value: "test")]))
            let clusterARN = try #require(cluster.cluster?.clusterArn)
            let described = try await ecs.describeClusters(.init(clusters: ["berth-it", "missing"]))
            #expect(described.clusters?.first?.status == "ACTIVE")
            #expect(described.failures?.first?.reason == "MISSING")

            var clusters: [String] = []
            for try await page in ecs.listClustersPages(.init()) { clusters += page.clusterArns ?? [] }
            #expect(clusters.contains(clusterARN))

            let input = try AWSJSON.decode(ECS.RegisterTaskDefinitionRequest.self, from: Array(richTaskDefinition.utf8))
            let registered = try await ecs.registerTaskDefinition(input)
            let taskDefinition = try #require(registered.taskDefinition)
            #expect(taskDefinition.family == "web")
            #expect(taskDefinition.revision == 1)
            let fetched = try await ecs.describeTaskDefinition(.init(taskDefinition: "web:1", include: [.tags]))
            let sentContainers = try JSONSerialization.jsonObject(with: Data(try AWSJSON.encode(input.containerDefinitions)))
            let returnedContainers = try JSONSerialization.jsonObject(
                with: Data(try AWSJSON.encode(try #require(fetched.taskDefinition?.containerDefinitions))))
            #expect(isSubset(sentContainers, of: returnedContainers), "every container field comes back intact")
            #expect(fetched.taskDefinition?.runtimePlatform?.cpuArchitecture == .arm64)
            #expect(fetched.taskDefinition?.ephemeralStorage?.sizeInGiB == 30)

            var families: [String] = []
            for try await page in ecs.listTaskDefinitionsPages(.init(familyPrefix: "web")) {
                families += page.taskDefinitionArns ?? []
            }
            #expect(families == [try #require(taskDefinition.taskDefinitionArn)])

            let vpc = try await moto.defaultNetwork(credentials: administrator)
            let network = ECS.NetworkConfiguration(
                awsvpcConfiguration: .init(
                    subnets: [vpc.subnets[0]], securityGroups: [vpc.securityGroup], assignPublicIp: .disabled))
            let created = try await ecs.createService(
                .init(
                    serviceName: "web", cluster: "berth-it", taskDefinition: "web:1", desiredCount: 2, launchType: .fargate,
                    deploymentConfiguration: .init(
                        deploymentCircuitBreaker: .init(enable: true, rollback: true), maximumPercent: 200,
                        minimumHealthyPercent: 100),
                    networkConfiguration: network, tags: [.init(key: "project", value: "web")], enableExecuteCommand: true))
            #expect(created.service?.serviceName == "web")
            #expect(created.service?.desiredCount == 2)

            let second = try await ecs.registerTaskDefinition(input)
            #expect(second.taskDefinition?.revision == 2)
            let updated = try await ecs.updateService(
                .init(service: "web", cluster: "berth-it", desiredCount: 3, taskDefinition: "web:2", forceNewDeployment: true))
            #expect(updated.service?.desiredCount == 3)
            let services = try await ecs.describeServices(.init(services: ["web"], cluster: "berth-it"))
            // moto keeps the service on its first task definition (REFERENCE.md §4); rollouts are
            // tested against Berth's own fake ECS.
            #expect(services.services?.first?.desiredCount == 3)
            #expect(services.services?.first?.launchType == .fargate)

            let run = try await ecs.runTask(
                .init(
                    taskDefinition: "web:2", cluster: "berth-it", count: 1, launchType: .fargate, networkConfiguration: network,
                    overrides: .init(containerOverrides: [.init(name: "app", command: ["./migrate"])]), startedBy: "berth"))
            let taskARN = try #require(run.tasks?.first?.taskArn)
            let tasks = try await ecs.describeTasks(.init(tasks: [taskARN], cluster: "berth-it"))
            #expect(tasks.tasks?.first?.taskDefinitionArn?.hasSuffix("web:2") == true)
            let listed = try await ecs.listTasks(.init(cluster: "berth-it"))
            #expect(listed.taskArns?.contains(taskARN) == true)
            let stopped = try await ecs.stopTask(.init(task: taskARN, cluster: "berth-it", reason: "berth test done"))
            #expect(stopped.task?.stoppedReason == "berth test done")

            _ = try await ecs.tagResource(.init(resourceArn: clusterARN, tags: [.init(key: "owner", value: "berth")]))
            let tagged = try await ecs.describeClusters(.init(clusters: ["berth-it"], include: [.tags]))
            #expect(tagged.clusters?.first?.tags?.contains(.init(key: "owner", value: "berth")) == true)

            _ = try await ecs.updateService(.init(service: "web", cluster: "berth-it", desiredCount: 0))
            let deleted = try await ecs.deleteService(.init(service: "web", cluster: "berth-it"))
            #expect(deleted.service?.serviceName == "web")
            let deregistered = try await ecs.deregisterTaskDefinition(.init(taskDefinition: "web:1"))
            #expect(deregistered.taskDefinition?.status == .inactive)

            await #expect {
                try await ecs.describeServices(.init(services: ["web"], cluster: "no-such-cluster"))
            } throws: { error in
                (error as? AWSError)?.code == .clusterNotFound
            }
        }
    }

    @Test("CloudWatch Logs: events written are read back by GetLogEvents and FilterLogEvents")
    func logs() async throws {
        try await withMoto { moto, administrator in
            let logs = CloudWatchLogsClient(client: try moto.client(for: .cloudWatchLogs, credentials: administrator))
            try await logs.createLogGroup(.init(logGroupName: "/ecs/web"))
            try await logs.createLogStream(.init(logGroupName: "/ecs/web", logStreamName: "web/app/1"))
            let start = Int(Date().timeIntervalSince1970 * 1000)
            _ = try await logs.putLogEvents(
                .init(
                    logGroupName: "/ecs/web", logStreamName: "web/app/1",
                    logEvents: (0..<5).map { .init(timestamp: start + $0, message: "line \($0)") }))
            var messages: [String] = []
            for try await page in logs.getLogEventsPages(.init(logStreamName: "web/app/1", logGroupName: "/ecs/web")) {
                messages += page.events?.compactMap(\.message) ?? []
            }
            #expect(messages == ["line 0", "line 1", "line 2", "line 3", "line 4"])
            let filtered = try await logs.filterLogEvents(.init(logGroupName: "/ecs/web", filterPattern: "\"line 3\""))
            #expect(filtered.events?.compactMap(\.message) == ["line 3"])
        }
    }

    @Test("CloudWatch Logs: a second CreateLogGroup is ResourceAlreadyExistsException; retention is set on a group that exists")
    func logGroupOnce() async throws {
        try await withMoto { moto, administrator in
            let logs = CloudWatchLogsClient(client: try moto.client(for: .cloudWatchLogs, credentials: administrator))
            try await logs.createLogGroup(.init(logGroupName: "/ecs/api", tags: ["berth:project": "shop"]))
            let again = await #expect(throws: AWSError.self) {
                try await logs.createLogGroup(.init(logGroupName: "/ecs/api"))
            }
            #expect(again?.code == "ResourceAlreadyExistsException")
            try await logs.putRetentionPolicy(.init(logGroupName: "/ecs/api", retentionInDays: 30))
            let missing = await #expect(throws: AWSError.self) {
                try await logs.putRetentionPolicy(.init(logGroupName: "/ecs/none", retentionInDays: 30))
            }
            #expect(missing?.code == "ResourceNotFoundException")
        }
    }
}
