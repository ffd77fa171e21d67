import AWSCore
import AWSECS
import AWSSigV4
import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// Deployments end to end with the real `berth` binary: STS, IAM and the AWS CLI against moto; ECS
/// and CloudWatch Logs against `FakeECS`, which rolls services out over time, trips the circuit
/// breaker and stops tasks with reasons, as moto cannot.
@Suite("Deployments end to end")
struct DeploymentEndToEndTests {
    /// A running server wired to moto (STS, IAM) and a fake ECS, with a Production environment.
    struct Harness {
        let moto: MotoServer
        let fake: FakeECS
        let fakeURL: String
        var server: BerthServerProcess
        /// What the server was started with, for ``killAndRestart()``.
        let serverEnvironment: [String: String]
        let serverArguments: [String]
        let root: URL
        let admin: Credentials
        var outputs: [String] = []

        mutating func berth(_ arguments: [String], stdin: String? = nil) async throws -> BerthProcess.Result {
            let result = try await server.cli(arguments, standardInput: stdin)
            outputs += [result.standardOutput, result.standardError]
            return result
        }

        /// Deploys release 1 of `project` to Production without waiting, then waits until its log
        /// contains `text` (failing the test after 30 s); returns the task id.
        mutating func deploy(_ project: String, until text: String) async throws -> String {
            let started = try await berth([
                "deploy", "--project", project, "--release", "1", "--environment", "Production", "--output", "json",
            ])
            let taskID = try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String)
            _ = try await server.taskLog(taskID, containing: text)
            return taskID
        }

        /// What earlier servers of the test printed (before ``killAndRestart()``).
        var earlierServerLogs: [String] = []

        /// `kill -9` of the server, then a new server on the same data directory (the same node).
        mutating func killAndRestart() async throws {
            try await server.killNow()
            earlierServerLogs.append(server.log)
            server = try await BerthServerProcess.start(
                dataDirectory: server.dataDirectory, environment: serverEnvironment, apiKey: server.apiKey,
                arguments: serverArguments)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let file = root.appendingPathComponent(name)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }

        /// The ECS client a test uses to prepare the fake (register a task definition to run).
        func fakeECS() throws -> ECSClient {
            ECSClient(
                client: try AWSClient(
                    service: .ecs, region: "eu-west-1", credentialProvider: StaticCredentialProvider(admin),
                    environment: ["AWS_ENDPOINT_URL": fakeURL], retryPolicy: .none))
        }

        /// Everything a secret must not appear in: CLI outputs, the server log, the database files.
        var everything: [String] {
            let database = ["berth.sqlite", "berth.sqlite-wal", "berth.sqlite-shm"].map {
                String(
                    decoding: (try? Data(contentsOf: server.dataDirectory.appendingPathComponent($0))) ?? Data(), as: UTF8.self)
            }
            return outputs + earlierServerLogs + [server.log] + database
        }
    }

    static func withHarness(
        fake settings: FakeECS.Settings = FakeECS.Settings(), _ body: (inout Harness) async throws -> Void
    ) async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let admin = try await moto.createAdministrator(named: "berth-admin")
        let fake = FakeECS(settings: settings)
        try await withLocalServer(fake.router) { fakeURL in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-deploy-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            var environment = moto.environment.values
            environment["AWS_ENDPOINT_URL_ECS"] = fakeURL
            environment["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = fakeURL
            environment["AWS_ACCESS_KEY_ID"] = admin.accessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = admin.secretAccessKey
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            environment["HOME"] = root.path
            let aws = URL(fileURLWithPath: try PythonTools.python()).deletingLastPathComponent().appendingPathComponent("aws")
            let arguments = ["--deployment-poll-interval", "0.1"] + ScriptWorkerUser.serverArguments(forScriptsRunning: aws.path)
            let server = try await BerthServerProcess.start(
                dataDirectory: root.appendingPathComponent("data"), environment: environment, arguments: arguments)
            var harness = Harness(
                moto: moto, fake: fake, fakeURL: fakeURL, server: server, serverEnvironment: environment,
                serverArguments: arguments, root: root, admin: admin)
            #expect(try await harness.berth(["environment", "create", "Production"]).status == 0)
            try await body(&harness)
        }
    }

    @Test(
        "A release ships through every step type: deploy, run task with its log, script with the injected credentials, update; secrets masked everywhere"
    )
    func everyStepType() async throws {
        try await Self.withHarness { h in
            let deployer = try await h.moto.createAdministrator(named: "berth-deployer")
            let roleARN = try await h.moto.createRole(
                named: "ClusterOps",
                trustPolicy: """
                    {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/berth-deployer"},\
                    "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ops-7"}}}]}
                    """)
            _ = try await h.fakeECS().registerTaskDefinition(
                ECS.RegisterTaskDefinitionRequest(
                    family: "migrate",
                    containerDefinitions: [
                        ECS.ContainerDefinition(
                            name: "migrate", image: "shop/migrate:1", essential: true,
                            logConfiguration: ECS.LogConfiguration(
                                logDriver: .awslogs,
                                options: ["awslogs-group": "/ecs/migrate", "awslogs-stream-prefix": "ecs"]))
                    ]))
            #expect(
                try await h.berth(
                    [
                        "account", "create", "aws", "--name", "deployer", "--access-key", deployer.accessKeyID,
                        "--secret-key-stdin", "--region", "eu-west-1",
                    ], stdin: deployer.secretAccessKey + "\n"
                ).status == 0)
            let target = try await h.berth([
                "target", "create", "ecs", "--name", "prod-web", "--environment", "Production", "--role", "web", "--region",
                "eu-west-1", "--cluster", "prod", "--account", "deployer", "--assume-role-arn", roleARN, "--external-id", "ops-7",
            ])
            #expect(target.status == 0, "\(target.standardError)")

            let aws = URL(fileURLWithPath: try PythonTools.python()).deletingLastPathComponent().appendingPathComponent("aws")
                .path
            let taskDefinition = try h.write(
                "web-taskdef.json",
                """
                {"family": "web", "cpu": "256", "memory": "512", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
                 "containerDefinitions": [{"name": "web", "image": "shop/web:1.0", "essential": true,
                   "portMappings": [{"containerPort": 8080}],
                   "environment": [{"name": "DB_PASSWORD", "value": "#{DbPassword}"}]}]}
                """)
            let projectFile = try h.write(
                "project.yaml",
                """
                name: Shop
                description: The web shop
                steps:
                  - name: Deploy web
                    type: deploy-ecs-service
                    targetRoles: [web]
                    properties:
                      serviceName: "web-#{Berth.Environment.Slug}"
                      taskDefinition: file://\(URL(fileURLWithPath: taskDefinition).lastPathComponent)
                      desiredCount: "#{Replicas}"
                      launchType: FARGATE
                      networkConfiguration:
                        awsvpcConfiguration: {subnets: [subnet-1], assignPublicIp: DISABLED}
                      tags: {team: shop}
                      timeoutSeconds: 60
                  - name: Migrate
                    type: run-ecs-task
                    targetRoles: [web]
                    properties:
                      taskDefinition: migrate
                      launchType: FARGATE
                      overrides:
                        containerOverrides: [{name: migrate, command: [migrate, --password, "#{DbPassword}"]}]
                  - name: Report
                    type: run-aws-cli-script
                    targetRoles: [web]
                    properties:
                      script: |
                        #{AwsCli} sts get-caller-identity --output text --query Arn
                        echo "region $AWS_REGION, password #{DbPassword}, replicas $(get_berthvariable Replicas)"
                        echo "account #{Deployer} key #{Deployer.AccessKey} secret #{Deployer.SecretKey}"
                        set_berthvariable Greeting "hello-#{Berth.Release.Number}"
                        token="tok-$(printf 'secret-%s' value)-123"
                        set_berthvariable Token "$token" -sensitive
                        echo "token $token"
                  - name: Update web
                    type: update-ecs-service
                    targetRoles: [web]
                    properties:
                      serviceName: web-production
                      containers:
                        - name: web
                          environment: {GREETING: "#{Berth.Action[Report].Output.Greeting}"}
                  - name: Ops report
                    type: run-aws-cli-script
                    properties:
                      account: "#{Deployer}"
                      assumeRoleArn: \(roleARN)
                      assumeRoleExternalId: ops-7
                      assumeRoleSessionName: ops-report
                      region: eu-central-1
                      script: |
                        #{AwsCli} sts get-caller-identity --output text --query Arn
                        echo "ops region $AWS_REGION"
                variables:
                  - {name: Replicas, value: "2", scope: {environments: [Production]}}
                  - {name: Replicas, value: "1"}
                  - {name: AwsCli, value: "\(aws)"}
                  - {name: BerthPrintVariables, value: "True"}
                  - {name: Deployer, type: aws-account, value: deployer}
                """)
            let applied = try await h.berth(["project", "apply", "-f", projectFile])
            #expect(applied.status == 0, "\(applied.standardError)")
            let secret = try await h.berth(
                ["variable", "set", "--project", "Shop", "DbPassword", "--sensitive", "--value-stdin"], stdin: "s3cr3t-db-pass\n")
            #expect(secret.status == 0, "\(secret.standardError)")
            #expect(secret.standardOutput.contains("********"))
            let release = try await h.berth([
                "release", "create", "--project", "Shop", "--version", "1.0.0", "--image", "web=shop/web:1.1",
            ])
            #expect(release.status == 0, "\(release.standardError)")
            #expect(release.standardOutput.contains("web=shop/web:1.1"))

            let deploy = try await h.berth([
                "deploy", "--project", "Shop", "--release", "1.0.0", "--environment", "Production", "--wait",
            ])
            let log = deploy.standardOutput
            #expect(deploy.status == 0, "\(log)\(deploy.standardError)")
            #expect(
                log.contains("[1. Deploy web · prod-web] Running as arn:aws:sts::123456789012:assumed-role/ClusterOps/berth"),
                "\(log)")
            #expect(log.contains("with an external ID"))
            #expect(log.contains("Registered the task definition web:1 (web = shop/web:1.1)"))
            #expect(log.contains("Created the service web-production in prod: 2 tasks of web:1"))
            #expect(log.contains("the deployment is COMPLETED with 2 of 2 tasks running web:1"))
            #expect(log.contains("[raw] DbPassword = ********"))
            #expect(log.contains("BerthPrintVariables is on"))
            #expect(log.contains("[migrate] command: migrate --password ********"), "\(log)")
            #expect(log.contains("arn:aws:sts::123456789012:assumed-role/ClusterOps/berth"))
            #expect(log.contains("region eu-west-1, password ********, replicas 2"))
            #expect(log.contains("account deployer key \(deployer.accessKeyID) secret ********"))
            #expect(log.contains("Output variable Greeting set: hello-1.0.0"))
            #expect(log.contains("Output variable Token set (sensitive)"))
            #expect(log.contains("token ********"))
            #expect(log.contains("Registered the task definition web:2"))
            // On the worker, with the account a variable names and its own AssumeRole with an external ID.
            #expect(log.contains("[5. Ops report · worker] Credentials: the access key account 'deployer'"), "\(log)")
            #expect(
                log.contains("[5. Ops report · worker] Running as arn:aws:sts::123456789012:assumed-role/ClusterOps/ops-report"),
                "\(log)")
            #expect(log.contains("[5. Ops report · worker] arn:aws:sts::123456789012:assumed-role/ClusterOps/ops-report"))
            #expect(log.contains("[5. Ops report · worker] ops region eu-central-1"))

            #expect(h.fake.primaryTaskDefinition(ofService: "web-production") == "web:2")
            let revisions = h.fake.taskDefinitions(family: "web")
            #expect(revisions.count == 2)
            #expect(revisions.last?.contains(#"{"name":"GREETING","value":"hello-1.0.0"}"#) == true, "\(revisions)")
            #expect(revisions.last?.contains(#""image":"shop/web:1.1""#) == true)
            let tags = h.fake.tags(ofService: "web-production")
            #expect(tags["berth:project"] == "shop")
            #expect(tags["berth:release"] == "1.0.0")
            #expect(tags["berth:environment"] == "production")
            #expect(tags["team"] == "shop")

            // The CLI reads the same log back; nothing anywhere holds the secrets in clear.
            let taskID = try #require(
                (deploy.standardError + log).firstMatch(of: /task-[a-z0-9]{16}/).map { String($0.output) },
                "\(deploy.standardError)")
            let replay = try await h.berth(["task", "log", taskID])
            #expect(replay.standardOutput.contains("token ********"))
            for value in ["s3cr3t-db-pass", "tok-secret-value-123", deployer.secretAccessKey] {
                #expect(!h.everything.contains { $0.contains(value) }, "\(value) leaked")
            }
        }
    }

    @Test(
        "Each outcome has its exit code: succeeded 0, failed 1 early on a fatal stopped task, rolled back 4, timed out 5, cancelled 6"
    )
    func outcomes() async throws {
        // Rollouts of 4 s: a failing one loses a task every second and trips the circuit breaker at
        // 3 s, so "failed early on a fatal stopped task" does not race the breaker on a loaded machine.
        try await Self.withHarness(fake: FakeECS.Settings(rolloutDuration: .seconds(4))) { h in
            #expect(
                try await h.berth([
                    "target", "create", "ecs", "--name", "prod", "--environment", "Production", "--role", "api", "--region",
                    "eu-west-1", "--cluster", "prod", "--worker-credentials",
                ]).status == 0)
            let projectFile = try h.write(
                "api.yaml",
                """
                name: Api
                steps:
                  - name: Deploy api
                    type: deploy-ecs-service
                    targetRoles: [api]
                    properties:
                      serviceName: api
                      desiredCount: 2
                      timeoutSeconds: "#{Timeout}"
                      taskDefinition:
                        family: api
                        containerDefinitions: [{name: app, image: "shop/api:placeholder", memory: 256}]
                variables:
                  - {name: Timeout, value: "30"}
                """)
            #expect(try await h.berth(["project", "apply", "-f", projectFile]).status == 0)
            func release(_ version: String, _ tag: String) async throws {
                let created = try await h.berth([
                    "release", "create", "--project", "Api", "--version", version, "--image", "app=shop/api:\(tag)",
                ])
                #expect(created.status == 0, "\(created.standardError)")
            }
            func deploy(_ version: String) async throws -> BerthProcess.Result {
                try await h.berth(["deploy", "--project", "Api", "--release", version, "--environment", "Production", "--wait"])
            }
            try await release("1", "ok")
            try await release("2", "crash")
            try await release("3", "unhealthy")
            try await release("4", "badpull")

            let ok = try await deploy("1")
            #expect(ok.status == 0, "\(ok.standardOutput)")
            let crash = try await deploy("2")
            #expect(crash.status == 1, "\(crash.standardOutput)")
            #expect(crash.standardError.contains("essential container 'app' exited with code 1"), "\(crash.standardError)")
            let rolledBack = try await deploy("3")
            #expect(rolledBack.status == 4, "\(rolledBack.standardOutput)")
            #expect(rolledBack.standardError.contains("circuit breaker rolled back to api:1"), "\(rolledBack.standardError)")
            #expect(h.fake.primaryTaskDefinition(ofService: "api") == "api:1")
            let pull = try await deploy("4")
            #expect(pull.status == 1)
            #expect(pull.standardError.contains("CannotPullContainerError"))

            // A stuck rollout times out with the last service events; a second deployment of the same
            // service waits for the first instead of interleaving.
            #expect(try await h.berth(["variable", "set", "--project", "Api", "Timeout", "2"]).status == 0)
            try await release("5", "stuck")
            // Releases freeze variables: release 6 keeps the time a 4 s rollout needs.
            #expect(try await h.berth(["variable", "set", "--project", "Api", "Timeout", "30"]).status == 0)
            try await release("6", "ok")
            let stuck = try await h.berth([
                "deploy", "--project", "Api", "--release", "5", "--environment", "Production", "--output", "json",
            ])
            let stuckTask = try #require(try ServerEndToEndTests.json(stuck.standardOutput)["taskId"] as? String)
            let after = try await deploy("6")
            #expect(after.status == 0, "\(after.standardOutput)")
            #expect(after.standardOutput.contains("Waiting: task \(stuckTask) is deploying the same service"))
            let timedOut = try await h.berth(["task", "log", stuckTask, "--follow"])
            #expect(timedOut.status == 5, "\(timedOut.standardOutput)")
            #expect(timedOut.standardError.contains("not done after 2 s"))
            #expect(timedOut.standardError.contains("unable to place a task"))

            // Cancelled while waiting.
            #expect(try await h.berth(["variable", "set", "--project", "Api", "Timeout", "0"]).status == 0)
            try await release("7", "stuck")
            let started = try await h.berth([
                "deploy", "--project", "Api", "--release", "7", "--environment", "Production", "--output", "json",
            ])
            let task = try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String)
            for _ in 0..<100 where !(try await h.berth(["task", "log", task])).standardOutput.contains("Waiting for api") {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await h.berth(["task", "cancel", task]).status == 0)
            let cancelled = try await h.berth(["task", "log", task, "--follow"])
            #expect(cancelled.status == 6, "\(cancelled.standardOutput)\(cancelled.standardError)")

            // One poller for the cluster: DescribeServices asked for one service per call here (one
            // deployment at a time), never more than the ECS limit of ten.
            #expect(h.fake.describeServicesBatches.allSatisfy { (1...10).contains($0) })

            // The history says how each one ended; --latest says what is where.
            let history = try ServerEndToEndTests.array(
                try await h.berth(["deployment", "list", "--project", "Api", "--output", "json"]))
            #expect(
                history.map { "\($0["release"] as? String ?? "?") \($0["state"] as? String ?? "?")" } == [
                    "7 cancelled", "6 succeeded", "5 timed-out", "4 failed", "3 rolled-back", "2 failed", "1 succeeded",
                ])
            let latest = try await h.berth(["deployment", "list", "--latest"])
            #expect(latest.status == 0)
            let rows = latest.standardOutput.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(rows.count == 2, "\(latest.standardOutput)")
            #expect(rows.first?.prefix(4) == ["PROJECT", "RELEASE", "ENVIRONMENT", "STATE"])
            #expect(rows.last?.prefix(4) == ["Api", "7", "Production", "cancelled"], "\(latest.standardOutput)")
            let unknown = try await h.berth(["deployment", "list", "--environment", "Nowhere"])
            #expect(unknown.status == 1)
            #expect(
                unknown.standardError.contains("No environment is named or has the id 'Nowhere'."), "\(unknown.standardError)")
        }
    }

    @Test("berth server --dev: the demo project deploys out of the box, and an unhealthy image is rolled back")
    func devServerDemo() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-dev-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var environment = ["HOME": root.path, "AWS_EC2_METADATA_DISABLED": "true"]
        environment["BERTH_MOTO_SERVER"] = ProcessInfo.processInfo.environment["BERTH_MOTO_SERVER"]
        let server = try await BerthServerProcess.start(
            dataDirectory: root.appendingPathComponent("data"), environment: environment,
            arguments: ["--dev", "--deployment-poll-interval", "0.2"])
        for _ in 0..<300 where !server.log.contains("Demo data:") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(server.log.contains("Demo data:"), "\(server.log)")

        let deploy = try await server.cli([
            "deploy", "--project", "Demo", "--release", "1.0.0", "--environment", "Development", "--wait",
        ])
        #expect(deploy.status == 0, "\(deploy.standardOutput)\(deploy.standardError)")
        #expect(deploy.standardOutput.contains("Done: the deployment is COMPLETED with 2 of 2 tasks running demo-web:1."))
        #expect(
            deploy.standardOutput.contains("[2. Report · worker]   arn:aws:ecs:us-east-1:123456789012:task-definition/demo-web:1")
        )
        let release = try await server.cli([
            "release", "create", "--project", "Demo", "--version", "1.0.1", "--image", "web=nginx:unhealthy",
        ])
        #expect(release.status == 0, "\(release.standardError)")
        let rolledBack = try await server.cli([
            "deploy", "--project", "Demo", "--release", "1.0.1", "--environment", "Development", "--wait",
        ])
        #expect(rolledBack.status == 4, "\(rolledBack.standardOutput)\(rolledBack.standardError)")
        #expect(rolledBack.standardError.contains("circuit breaker rolled back to demo-web:1"))
        // One command back to the last good release.
        let back = try await server.cli([
            "deploy", "--project", "Demo", "--release", "previous", "--environment", "Development", "--wait",
        ])
        #expect(back.status == 0, "\(back.standardOutput)\(back.standardError)")
        #expect(back.standardOutput.contains("Deploying Demo 1.0.0 to Development"), "\(back.standardOutput)")
        #expect(try await server.cli(["target", "health-check", "demo-cluster"]).status == 0)

        let dataDirectory = try #require(server.log.firstMatch(of: /sqlite:(\S+)\/berth\.sqlite/).map { String($0.output.1) })
        #expect(FileManager.default.fileExists(atPath: dataDirectory))
        #expect(try await server.terminate() == 0)
        #expect(!FileManager.default.fileExists(atPath: dataDirectory), "the dev server deletes its data on exit")
    }

    @Test("Bad input is named: an unknown step type, a missing service name, an image without a tag, an unknown environment")
    func badInput() async throws {
        try await Self.withHarness { h in
            let broken = try h.write(
                "broken.yaml",
                """
                name: Broken
                steps:
                  - name: Deploy
                    type: deploy-ecs-service
                    targetRoles: [web]
                    properties:
                      desiredCount: two
                      taskDefinition: {family: web, containerDefinitions: [{name: web, image: nginx}]}
                """)
            let refused = try await h.berth(["project", "apply", "-f", broken])
            #expect(refused.status == 2)
            #expect(
                refused.standardError.contains("steps[0].properties.serviceName: step 'Deploy' needs the ECS service's name"),
                "\(refused.standardError)")
            #expect(refused.standardError.contains("desiredCount must be a whole number"))
            let unknownType = try h.write(
                "unknown.yaml", "name: X\nsteps:\n  - {name: A, type: deploy-lambda, targetRoles: [web]}\n")
            let typeRefused = try await h.berth(["project", "apply", "-f", unknownType])
            #expect(typeRefused.status == 2)
            #expect(typeRefused.standardError.contains("deploy-lambda"), "\(typeRefused.standardError)")

            let fixed = try h.write(
                "fixed.yaml",
                """
                name: Fixed
                steps:
                  - name: Deploy
                    type: deploy-ecs-service
                    targetRoles: [web]
                    properties:
                      serviceName: web
                      taskDefinition: {family: web, containerDefinitions: [{name: web, image: nginx}]}
                """)
            #expect(try await h.berth(["project", "apply", "-f", fixed]).status == 0)
            let untagged = try await h.berth(["release", "create", "--project", "Fixed", "--version", "1"])
            #expect(untagged.status == 2)
            #expect(
                untagged.standardError.contains("the image of container 'web' 'nginx' has no tag"), "\(untagged.standardError)")
            #expect(
                try await h.berth(["release", "create", "--project", "Fixed", "--version", "1", "--image", "web=nginx:1.27"])
                    .status == 0)
            let nowhere = try await h.berth(["deploy", "--project", "Fixed", "--release", "1", "--environment", "Mars"])
            #expect(nowhere.status == 2)
            #expect(nowhere.standardError.contains("there is no environment 'Mars'"))
            let noTarget = try await h.berth([
                "deploy", "--project", "Fixed", "--release", "1", "--environment", "Production", "--wait",
            ])
            #expect(noTarget.status == 1)
            #expect(noTarget.standardError.contains("no target in Production has the role 'web'"))
        }
    }
}
