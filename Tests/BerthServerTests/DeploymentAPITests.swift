import AWSCore
import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import BerthTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Deployments through the API")
struct DeploymentAPITests {
    /// A server whose AWS calls go to a fake STS and `ecs`, with the environment Production and the
    /// target `prod` (role `web`, cluster `prod`) deploying through the OIDC account `keyless`.
    static func withProductionTarget(
        ecs: FakeECS, sts: FakeSTS = FakeSTS(expiration: Date().addingTimeInterval(3600)),
        _ body: @Sendable @escaping (TestServer) async throws -> Void
    ) async throws {
        try await withLocalServer(sts.router) { stsURL in
            try await withLocalServer(ecs.router) { ecsURL in
                let environment = [
                    "AWS_ENDPOINT_URL_STS": stsURL, "AWS_ENDPOINT_URL_ECS": ecsURL, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": ecsURL,
                    "AWS_EC2_METADATA_DISABLED": "true",
                ]
                try await TestServer.with(awsEnvironment: environment) { server in
                    let production = try await server.request(
                        .post, "/api/spaces/default/environments", json: ["name": "Production"])
                    #expect(production.status == .created, "\(production.text)")
                    let account = try await server.request(
                        .post, "/api/spaces/default/accounts",
                        json: ["type": "aws-oidc", "name": "keyless", "roleArn": "arn:aws:iam::123456789012:role/Deployer"])
                    #expect(account.status == .created, "\(account.text)")
                    try await server.request(
                        .post, "/api/spaces/default/targets",
                        json: [
                            "name": "prod", "environments": ["Production"], "roles": ["web"], "region": "eu-west-1",
                            "clusterName": "prod", "account": "keyless",
                        ])
                    try await body(server)
                }
            }
        }
    }

    /// Creates the release `version` of `project`.
    static func release(_ server: TestServer, project: String, version: String) async throws {
        let release = try await server.request(
            .post, "/api/spaces/default/projects/\(project)/releases", json: ["version": version])
        #expect(release.status == .created, "\(release.text)")
    }

    /// Deploys `release` of `project` to Production and waits for it to end: its task and its log.
    static func deploy(_ server: TestServer, project: String, release: String) async throws -> (
        task: ServerTask, log: [String]
    ) {
        let deployment = try await server.request(
            .post, "/api/spaces/default/deployments", json: ["project": project, "release": release, "environment": "production"])
        #expect(deployment.status == .accepted, "\(deployment.text)")
        let taskID = try #require(deployment.json["taskId"] as? String, "\(deployment.text)")
        let task = try await server.finishedTask(taskID)
        return (task, try await server.server.store.taskLog(taskID: taskID).map(\.message))
    }

    @Test("An OIDC account deploys with the deployment subject; wait: false returns once ECS has the change")
    func oidcDeploymentSubject() async throws {
        let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
        let ecs = FakeECS()
        try await Self.withProductionTarget(ecs: ecs, sts: sts) { server in
            let step: [String: Any] = [
                "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                "properties": [
                    "serviceName": "web", "wait": false, "enableECSManagedTags": "true",
                    "taskDefinition": [
                        "family": "web", "containerDefinitions": [["name": "web", "image": "shop/web:1"]],
                    ],
                ],
            ]
            let applied = try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [step]])
            #expect(applied.status == .ok, "\(applied.text)")
            try await Self.release(server, project: "Shop", version: "1")
            let (task, log) = try await Self.deploy(server, project: "shop", release: "1")
            #expect(task.state == .succeeded, "\(task)")
            #expect(log.contains { $0.contains(#"sub "space:default:project:shop:environment:production""#) })
            #expect(log.contains("Not waiting for the rollout (wait: false); ECS continues it."))

            let exchange = try #require(sts.calls.first { $0.action == "AssumeRoleWithWebIdentity" })
            #expect(!exchange.signed)
            let token = try #require(exchange.parameters["WebIdentityToken"])
            var encoded = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
                .replacingOccurrences(of: "_", with: "/")
            encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)
            let payload = try #require(Data(base64Encoded: encoded))
            let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            #expect(claims["sub"] as? String == "space:default:project:shop:environment:production")
            // Who queued the deployment: the administrator, whose key the test server uses.
            #expect(claims["berth:deployed_by"] as? String == "administrator", "\(claims)")
            #expect(task.queuedBy == "administrator")
            #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
            #expect(ecs.managedTags(ofService: "web") == true)

            let listed = try await server.request(.get, "/api/spaces/default/deployments?project=shop&latest=true")
            #expect(listed.items.map { $0["taskId"] as? String } == [task.id], "\(listed.text)")
            let id = try #require(listed.items.first?["id"] as? String)
            let fetched = try await server.request(.get, "/api/spaces/default/deployments/\(id)")
            #expect(fetched.json["state"] as? String == "succeeded")
            #expect(fetched.json["release"] as? String == "1")
        }
    }

    @Test("An ECS step on a missing or INACTIVE cluster fails up front, naming the cluster, and changes nothing")
    func clusterCheckedFirst() async throws {
        let ecs = FakeECS()
        try await Self.withProductionTarget(ecs: ecs) { server in
            let step: [String: Any] = [
                "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                "properties": [
                    "serviceName": "web",
                    "taskDefinition": ["family": "web", "containerDefinitions": [["name": "web", "image": "shop/web:1"]]],
                ],
            ]
            try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [step]])
            try await Self.release(server, project: "Shop", version: "1")
            let expectations: [(status: String?, message: String)] = [
                (
                    nil,
                    "Step 'Deploy' on prod: The cluster 'prod' was not found in eu-west-1 (MISSING); nothing was changed. Check the target's cluster name, region and account."
                ),
                (
                    "INACTIVE",
                    "Step 'Deploy' on prod: The cluster 'prod' in eu-west-1 is INACTIVE, not ACTIVE; nothing was changed."
                ),
            ]
            for expected in expectations {
                ecs.setCluster("prod", status: expected.status)
                let (task, _) = try await Self.deploy(server, project: "shop", release: "1")
                #expect(task.state == .failed)
                #expect(task.errorMessage == expected.message)
            }
            #expect(ecs.calls["RegisterTaskDefinition"] == nil)
            #expect(ecs.calls["CreateService"] == nil)

            ecs.setCluster("prod", status: "ACTIVE")
            let (task, log) = try await Self.deploy(server, project: "shop", release: "1")
            #expect(task.state == .succeeded, "\(task)")
            #expect(log.contains("The cluster prod is ACTIVE (0 services, 0 running tasks, 0 container instances)."), "\(log)")
        }
    }

    @Test(
        "logGroup: auto sends containers without a log configuration to /ecs/<family>, created once, tagged, with its retention; bad tags are refused"
    )
    func automaticLogging() async throws {
        let ecs = FakeECS()
        try await Self.withProductionTarget(ecs: ecs) { server in
            func step(_ properties: [String: Any]) -> [String: Any] {
                [
                    "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                    "properties": properties.merging([
                        "serviceName": "web",
                        "taskDefinition": [
                            "family": "web",
                            "containerDefinitions": [
                                ["name": "web", "image": "shop/web:1"],
                                [
                                    "name": "proxy", "image": "envoy:1",
                                    "logConfiguration": ["logDriver": "json-file", "options": ["max-size": "10m"]],
                                ],
                            ],
                        ],
                    ]) { $1 },
                ]
            }
            let refused = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: ["steps": [step(["logGroup": "shop web!", "logRetentionDays": 10])]])
            #expect(refused.status == .badRequest)
            #expect(
                refused.errorFields.sorted() == ["steps[0].properties.logGroup", "steps[0].properties.logRetentionDays"],
                "\(refused.text)")
            #expect(refused.errorMessage.contains("must be one of 1, 3, 5, 7, 14, 30"), "\(refused.errorMessage)")
            let manyTags = Dictionary(uniqueKeysWithValues: (1...47).map { ("tag\($0)", "v") })
            for (tags, message) in [
                (["aws:team": "shop"], "tags may not use the key 'aws:team': AWS reserves the prefix aws:"),
                (manyTags, "tags has 47 tags; AWS takes 50 per resource and Berth adds 4, so at most 46"),
            ] {
                let refusedTags = try await server.request(
                    .put, "/api/spaces/default/projects/Shop", json: ["steps": [step(["tags": tags])]])
                #expect(refusedTags.errorFields == ["steps[0].properties.tags"], "\(refusedTags.text)")
                #expect(refusedTags.errorMessage.contains(message), "\(refusedTags.errorMessage)")
            }

            let applied = try await server.request(
                .put, "/api/spaces/default/projects/Shop",
                json: ["steps": [step(["logGroup": "auto", "logRetentionDays": "30", "tags": ["team": "shop"]])]])
            #expect(applied.status == .ok, "\(applied.text)")
            for (attempt, version) in ["1", "2"].enumerated() {
                try await Self.release(server, project: "Shop", version: version)
                let (task, log) = try await Self.deploy(server, project: "shop", release: version)
                #expect(task.state == .succeeded, "\(task)")
                #expect(log.contains("web log to CloudWatch Logs: group /ecs/web, stream prefix ecs."), "\(log)")
                #expect(
                    log.contains(
                        attempt == 0
                            ? "Created the CloudWatch Logs group /ecs/web." : "The CloudWatch Logs group /ecs/web exists."),
                    "\(log)")
                #expect(log.contains("Log events in /ecs/web are kept 30 days."), "\(log)")
            }
            let group = try #require(ecs.logGroups["/ecs/web"])
            #expect(group.retentionDays == 30)
            #expect(group.tags["team"] == "shop")
            #expect(group.tags["berth:project"] == "shop")
            #expect(group.tags["berth:environment"] == "production")
            #expect(ecs.calls["CreateLogGroup"] == 2)

            let registered = try #require(ecs.taskDefinitions(family: "web").last)
            let definition = try #require(
                try JSONSerialization.jsonObject(with: Data(registered.utf8)) as? [String: Any])
            let containers = try #require(definition["containerDefinitions"] as? [[String: Any]])
            let web = try #require(containers.first { $0["name"] as? String == "web" }?["logConfiguration"] as? [String: Any])
            #expect(web["logDriver"] as? String == "awslogs")
            #expect(
                web["options"] as? [String: String]
                    == ["awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "ecs"])
            let proxy = try #require(
                containers.first { $0["name"] as? String == "proxy" }?["logConfiguration"] as? [String: Any])
            #expect(proxy["logDriver"] as? String == "json-file")

            let fargate = try await server.request(
                .put, "/api/spaces/default/projects/Fargate",
                json: [
                    "steps": [
                        [
                            "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                            "properties": [
                                "serviceName": "api", "logGroup": "/shop/api",
                                "taskDefinition": [
                                    "family": "api", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
                                    "containerDefinitions": [["name": "api", "image": "shop/api:1"]],
                                ],
                            ],
                        ]
                    ]
                ])
            #expect(fargate.status == .ok, "\(fargate.text)")
            try await Self.release(server, project: "Fargate", version: "1")
            let (task, _) = try await Self.deploy(server, project: "fargate", release: "1")
            #expect(task.state == .failed)
            #expect(
                task.errorMessage
                    == "Step 'Deploy' on prod: The task definition 'api' needs an executionRoleArn for logGroup: on Fargate, ECS writes the containers' logs with the execution role."
            )
            #expect(ecs.taskDefinitions(family: "api").isEmpty)
            #expect(ecs.logGroups["/shop/api"] == nil)
        }
    }

    @Test("A script on the worker runs as the account it names, which must exist and be allowed in the environment")
    func scriptAccount() async throws {
        let sts = FakeSTS(expiration: Date().addingTimeInterval(3600))
        try await Self.withProductionTarget(ecs: FakeECS(), sts: sts) { server in
            func apply(_ properties: [String: Any], roles: [String] = []) async throws -> TestServer.Reply {
                try await server.request(
                    .put, "/api/spaces/default/projects/Ops",
                    json: [
                        "steps": [
                            [
                                "name": "Report", "type": "run-aws-cli-script", "targetRoles": roles,
                                "properties": properties.merging(["script": "echo \"region $AWS_REGION\""]) { $1 },
                            ]
                        ]
                    ])
            }
            let refusals: [([String: Any], [String], String)] = [
                (["account": "keyless"], ["web"], "steps[0].properties.account"),
                (["assumeRoleExternalId": "x-1"], [], "steps[0].properties.assumeRoleExternalId"),
                (["assumeRoleArn": "arn:aws:iam::12:user/x"], [], "steps[0].properties.assumeRoleArn"),
            ]
            for (properties, roles, field) in refusals {
                let refused = try await apply(properties, roles: roles)
                #expect(refused.status == .badRequest)
                #expect(refused.errorFields == [field], "\(refused.text)")
            }

            try await Self.createStagingOnlyAccount(server)
            #expect(try await apply(["account": "#{Who}", "region": "ap-south-1"]).status == .ok)
            let expectations: [(who: String, error: String?)] = [
                ("nobody", "Step 'Report': The account 'nobody' that the step names does not exist."),
                (
                    "staging-keys",
                    "Step 'Report': The account 'staging-keys' may not be used in Production (it is restricted to other environments)."
                ),
                ("keyless", nil),
            ]
            for (attempt, expected) in expectations.enumerated() {
                let variable = try await server.request(
                    .post, "/api/spaces/default/projects/Ops/variables", json: ["name": "Who", "value": expected.who])
                #expect(variable.status == .created || variable.status == .ok, "\(variable.text)")
                try await Self.release(server, project: "Ops", version: "1.\(attempt)")
                let (task, log) = try await Self.deploy(server, project: "ops", release: "1.\(attempt)")
                #expect(task.errorMessage == expected.error)
                #expect(task.state == (expected.error == nil ? .succeeded : .failed))
                if expected.error == nil {
                    #expect(log.contains("Running as arn:aws:iam::123456789012:user/fake (account 123456789012)."), "\(log)")
                    #expect(log.contains("region ap-south-1"), "\(log)")
                    #expect(log.contains { $0.contains(#"sub "space:default:project:ops:environment:production""#) })
                }
            }
            #expect(sts.calls.filter { $0.action == "AssumeRoleWithWebIdentity" }.count == 1)
        }
    }

    /// Creates the environment Staging and the access-key account `staging-keys` restricted to it
    /// (key id AKIASTAGING000000000, secret staging-secret-key-value).
    static func createStagingOnlyAccount(_ server: TestServer) async throws {
        try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
        let account = try await server.request(
            .post, "/api/spaces/default/accounts",
            json: [
                "type": "aws-access-key", "name": "staging-keys", "accessKeyId": "AKIASTAGING000000000",
                "secretKey": "staging-secret-key-value", "environments": ["Staging"],
            ])
        #expect(account.status == .created, "\(account.text)")
    }

    /// Applies the project Jobs: a step that registers the task definition `job` (its container
    /// with `container`'s extra members), then one that runs it with `properties`.
    static func applyJobProject(
        _ server: TestServer, properties: [String: Any], container: [String: Any] = [:]
    ) async throws {
        let applied = try await server.request(
            .put, "/api/spaces/default/projects/Jobs",
            json: [
                "steps": [
                    [
                        "name": "Register", "type": "deploy-ecs-service", "targetRoles": ["web"],
                        "properties": [
                            "serviceName": "job", "wait": false,
                            "taskDefinition": [
                                "family": "job",
                                "containerDefinitions": [container.merging(["name": "job", "image": "shop/job:1"]) { $1 }],
                            ],
                        ],
                    ],
                    [
                        "name": "Run", "type": "run-ecs-task", "targetRoles": ["web"],
                        "properties": properties.merging(["taskDefinition": "job"]) { $1 },
                    ],
                ]
            ])
        #expect(applied.status == .ok, "\(applied.text)")
    }

    /// Applies the project Jobs (``applyJobProject``) with `properties`, releases it and deploys
    /// it; returns the deployment's task id.
    static func deployJob(_ server: TestServer, ecs: FakeECS, properties: [String: Any]) async throws -> String {
        try await applyJobProject(server, properties: properties)
        let number = UUID().uuidString.prefix(8)
        try await Self.release(server, project: "jobs", version: "1.0.0-\(number)")
        let deployment = try await server.request(
            .post, "/api/spaces/default/deployments",
            json: ["project": "jobs", "release": "1.0.0-\(number)", "environment": "production"])
        #expect(deployment.status == .accepted, "\(deployment.text)")
        return try #require(deployment.json["taskId"] as? String)
    }

    @Test(
        "A one-off task never outlives its step unnoticed: the timeout stops it, stopOnTimeout: false keeps it, cancelling stops it"
    )
    func runTaskStoppedOnTimeoutAndCancel() async throws {
        var settings = FakeECS.Settings()
        settings.taskDuration = .seconds(600)
        let ecs = FakeECS(settings: settings)
        try await Self.withProductionTarget(ecs: ecs) { server in
            let timedOut = try await Self.deployJob(server, ecs: ecs, properties: ["timeoutSeconds": 1])
            var tasks = try await server.finishedTasks(count: 1)
            #expect(tasks.first?.state == .timedOut, "\(tasks)")
            var log = try await server.server.store.taskLog(taskID: timedOut).map(\.message)
            #expect(
                log.contains { $0.hasPrefix("Stopped ") && $0.hasSuffix(": The Berth deployment timed out after 1 s.") }, "\(log)"
            )
            #expect(Array(ecs.stopTaskReasons.values) == ["The Berth deployment timed out after 1 s."])

            let kept = try await Self.deployJob(server, ecs: ecs, properties: ["timeoutSeconds": 1, "stopOnTimeout": false])
            tasks = try await server.finishedTasks(count: 2)
            #expect(tasks.allSatisfy { $0.state == .timedOut }, "\(tasks)")
            log = try await server.server.store.taskLog(taskID: kept).map(\.message)
            #expect(log.contains { $0.contains("it keeps running in ECS (stopOnTimeout: false)") }, "\(log)")
            #expect(ecs.stopTaskReasons.count == 1)

            let polled = ecs.calls["DescribeTasks"] ?? 0
            let cancelled = try await Self.deployJob(server, ecs: ecs, properties: [:])
            // Cancelled once the step watches its task (a loaded machine may take a while to get there).
            for _ in 0..<600 where (ecs.calls["DescribeTasks"] ?? 0) < polled + 2 { try await Task.sleep(for: .milliseconds(50)) }
            try #require((ecs.calls["DescribeTasks"] ?? 0) >= polled + 2, "the step never watched its task")
            let cancel = try await server.request(.post, "/api/tasks/\(cancelled)/cancel")
            #expect(cancel.status == .accepted || cancel.status == .ok, "\(cancel.text)")
            tasks = try await server.finishedTasks(count: 3)
            #expect(tasks.first { $0.id == cancelled }?.state == .cancelled, "\(tasks)")
            log = try await server.server.store.taskLog(taskID: cancelled).map(\.message)
            #expect(log.contains { $0.hasSuffix(": The Berth deployment was cancelled.") }, "\(log)")
            #expect(
                ecs.stopTaskReasons.values.sorted()
                    == ["The Berth deployment timed out after 1 s.", "The Berth deployment was cancelled."].sorted())
        }
    }
}
