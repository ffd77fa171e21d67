import AWSCore
import AWSECS
import AWSSigV4
import AsyncHTTPClient
import BerthDev
import BerthTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// External workers with the real `berth` binary: a server whose environment holds no AWS
/// credentials at all, and `berth worker` processes that have their own. STS and IAM are moto; ECS
/// is `FakeECS`.
// One at a time: each test runs moto, a server and worker processes, on a machine that also runs the rest of the suite.
@Suite("External workers end to end", .serialized)
struct WorkerEndToEndTests {
    struct Harness {
        let moto: MotoServer
        let fake: FakeECS
        let server: BerthServerProcess
        let fakeURL: String
        let root: URL
        /// What a worker's environment holds: AWS endpoints, and the keys of an IAM user that only
        /// workers have.
        let workerEnvironment: [String: String]
        let workerUser: String
        var outputs: [String] = []

        mutating func berth(_ arguments: [String]) async throws -> BerthProcess.Result {
            let result = try await server.cli(arguments)
            outputs += [result.standardOutput, result.standardError]
            return result
        }

        /// A new registration token for `pool`.
        mutating func token(_ pool: String) async throws -> String {
            let made = try await berth(["worker-pool", "token", pool, "--output", "json"])
            #expect(made.status == 0, "\(made.standardError)")
            return try #require(try ServerEndToEndTests.json(made.standardOutput)["token"] as? String)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let file = root.appendingPathComponent(name)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }

        /// Applies the web project (``WorkerEndToEndTests/webProject(_:)``), creates its release 1
        /// and deploys it to Production, waiting for the end.
        mutating func deployWeb() async throws -> BerthProcess.Result {
            #expect(try await berth(["project", "apply", "-f", try WorkerEndToEndTests.webProject(self)]).status == 0)
            #expect(
                try await berth(["release", "create", "--project", "Web", "--version", "1", "--image", "app=shop/web:1"])
                    .status == 0)
            let deployed = try await berth([
                "deploy", "--project", "Web", "--release", "1", "--environment", "Production", "--wait",
            ])
            #expect(deployed.status == 0, "\(deployed.standardOutput) \(deployed.standardError)")
            return deployed
        }

        /// A worker of `pool`, in a directory of its own, with ``workerEnvironment``.
        mutating func startWorker(_ name: String, pool: String, token: String) async throws -> BerthWorkerProcess {
            try await BerthWorkerProcess.start(
                server: server, pool: pool, name: name, token: token, directory: root.appendingPathComponent(name),
                environment: workerEnvironment)
        }

        /// A pool, a worker of it waiting for jobs, and a target `name` of Production (role `name`,
        /// cluster `prod`) that the pool's workers deploy to with their own credentials.
        mutating func poolWithTarget(_ name: String) async throws -> BerthWorkerProcess {
            #expect(try await berth(["worker-pool", "create", name]).status == 0)
            let worker = try await startWorker("\(name)-worker", pool: name, token: try await token(name))
            try await worker.waitForLog(containing: "The worker is waiting for jobs")
            let target = try await berth([
                "target", "create", "ecs", "--name", name, "--environment", "Production", "--role", name, "--region",
                "eu-west-1", "--cluster", "prod", "--worker-credentials", "--worker-pool", name,
            ])
            #expect(target.status == 0, "\(target.standardError)")
            return worker
        }

        /// The database files, where no secret may be in clear.
        var database: String {
            ["berth.sqlite", "berth.sqlite-wal", "berth.sqlite-shm"].map {
                String(
                    decoding: (try? Data(contentsOf: server.dataDirectory.appendingPathComponent($0))) ?? Data(), as: UTF8.self)
            }.joined()
        }
    }

    /// - Parameter serverArguments: besides a fast poll (a short `--job-lease`, for instance).
    static func withHarness(
        fake: FakeECS = FakeECS(), serverArguments: [String] = [], _ body: (inout Harness) async throws -> Void
    ) async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let workerUser = "berth-worker-\(UUID().uuidString.prefix(6).lowercased())"
        let workerKeys = try await moto.createAdministrator(named: workerUser)
        try await withLocalServer(fake.router) { fakeURL in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-workers-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            // The server: endpoints only. No key, no profile, no metadata service.
            var environment = moto.environment.values
            environment["AWS_ENDPOINT_URL_ECS"] = fakeURL
            environment["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = fakeURL
            environment["HOME"] = root.path
            let server = try await BerthServerProcess.start(
                dataDirectory: root.appendingPathComponent("data"), environment: environment,
                arguments: ["--deployment-poll-interval", "0.1"] + serverArguments)
            var workerEnvironment = environment
            workerEnvironment["AWS_ACCESS_KEY_ID"] = workerKeys.accessKeyID
            workerEnvironment["AWS_SECRET_ACCESS_KEY"] = workerKeys.secretAccessKey
            var harness = Harness(
                moto: moto, fake: fake, server: server, fakeURL: fakeURL, root: root, workerEnvironment: workerEnvironment,
                workerUser: workerUser)
            #expect(try await harness.berth(["environment", "create", "Production"]).status == 0)
            try await body(&harness)
        }
    }

    /// A project with one Deploy ECS service step on the targets with the role `web`.
    static func webProject(_ h: Harness) throws -> String {
        try h.write(
            "web.yaml",
            """
            name: Web
            steps:
              - name: Deploy web
                type: deploy-ecs-service
                targetRoles: [web]
                properties:
                  serviceName: web
                  desiredCount: 1
                  timeoutSeconds: 60
                  taskDefinition:
                    family: web
                    containerDefinitions:
                      - {name: app, image: "shop/web:placeholder", memory: 256, environment: [{name: DB_PASSWORD, value: "#{DbPassword}"}]}
            """)
    }

    @Test(
        "A worker whose AWS credentials exist only in its own environment deploys through a target that uses the worker's credentials; the job's log names the worker, the server never sees the keys, and the worker's credential opens nothing of the user API"
    )
    func workerCredentials() async throws {
        try await Self.withHarness { h in
            #expect(try await h.berth(["worker-pool", "create", "private-vpc"]).status == 0)
            let token = try await h.token("private-vpc")
            let worker = try await h.startWorker("vpc-worker-1", pool: "private-vpc", token: token)
            // Registered: the credential file is the worker user's alone.
            let attributes = try FileManager.default.attributesOfItem(atPath: worker.configFile.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            try await worker.waitForLog(containing: "The worker is waiting for jobs")

            let target = try await h.berth([
                "target", "create", "ecs", "--name", "private-web", "--environment", "Production", "--role", "web",
                "--region", "eu-west-1", "--cluster", "prod", "--worker-credentials", "--worker-pool", "private-vpc",
            ])
            #expect(target.status == 0, "\(target.standardError)")
            // A sensitive variable the step substitutes: it travels in the job, which the store keeps sealed.
            #expect(try await h.berth(["project", "apply", "-f", try Self.webProject(h)]).status == 0)
            let password = "pw-\(UUID().uuidString)"
            let set = try await h.server.cli(
                ["variable", "set", "--project", "Web", "DbPassword", "--sensitive", "--value-stdin"], standardInput: password)
            #expect(set.status == 0, "\(set.standardError)")
            let log = try await h.deployWeb().standardOutput
            #expect(h.fake.taskDefinitions(family: "web").first?.contains(password) == true, "the worker did not substitute it")
            #expect(!h.database.contains(password), "the job's sensitive value is stored in clear")
            #expect(!h.server.log.contains(password) && !log.contains(password))
            #expect(log.contains("The worker vpc-worker-1 of the pool 'private-vpc' took the job."), "\(log)")
            #expect(log.contains("On the worker vpc-worker-1"), "\(log)")
            #expect(log.contains("Credentials: the worker's own"), "\(log)")
            #expect(log.contains("Running as arn:aws:iam::123456789012:user/\(h.workerUser)"), "\(log)")
            #expect(h.fake.primaryTaskDefinition(ofService: "web") == "web:1")

            let listed = try ServerEndToEndTests.array(try await h.berth(["worker", "list", "--output", "json"]))
            let entry = try #require(listed.first { $0["name"] as? String == "vpc-worker-1" })
            #expect(entry["pool"] as? String == "private-vpc")
            #expect(entry["status"] as? String == "healthy")
            #expect(entry["version"] as? String == BerthVersion.current)

            // The worker's keys never reach the server: not its log, not its database.
            let secret = h.workerEnvironment["AWS_SECRET_ACCESS_KEY"] ?? "?"
            #expect(!h.server.log.contains(secret))
            #expect(!h.database.contains(secret))
            #expect(!h.outputs.contains { $0.contains(secret) })

            // The worker's credential, tried on the user API, opens nothing; nor is it in the database.
            let file = try JSONSerialization.jsonObject(with: Data(contentsOf: worker.configFile)) as? [String: Any]
            let credential = try #require(file?["credential"] as? String)
            #expect(!h.database.contains(credential))
            for path in ["/api/spaces", "/api/spaces/default/targets", "/api/spaces/default/workers"] {
                var request = HTTPClientRequest(url: h.server.url + path)
                request.headers.add(name: "Authorization", value: "Bearer \(credential)")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                #expect(response.status.code == 401, "\(path) answered \(response.status) to a worker's credential")
            }
            // Nor can a made-up worker credential claim jobs.
            var forged = HTTPClientRequest(url: h.server.url + "/api/worker/jobs/claim")
            forged.method = .POST
            forged.headers.add(name: "Authorization", value: "Bearer berthwk_\(String(repeating: "A", count: 43))")
            forged.body = .bytes(.init(string: #"{"version":"x","waitSeconds":0}"#))
            #expect(try await HTTPClient.shared.execute(forged, timeout: .seconds(10)).status.code == 401)

            // A registration token works until it is replaced or revoked.
            let second = try await h.token("private-vpc")
            let withOld = try await BerthProcess.run(
                [
                    "worker", "register", "--server", h.server.url, "--pool", "private-vpc", "--name", "late",
                    "--token", token, "--config", h.root.appendingPathComponent("late.json").path,
                ], environment: ["HOME": h.root.path])
            #expect(withOld.status == 1)
            #expect(withOld.standardError.contains("The registration token is not valid"), "\(withOld.standardError)")
            #expect(try await h.berth(["worker-pool", "token", "private-vpc", "--revoke"]).status == 0)
            let revoked = try await BerthProcess.run(
                [
                    "worker", "register", "--server", h.server.url, "--pool", "private-vpc", "--name", "late",
                    "--token", second, "--config", h.root.appendingPathComponent("late.json").path,
                ], environment: ["HOME": h.root.path])
            #expect(revoked.status == 1)
            #expect(revoked.standardError.contains("The registration token is not valid"), "\(revoked.standardError)")
            #expect(!FileManager.default.fileExists(atPath: h.root.appendingPathComponent("late.json").path))

            // A deleted worker's credential stops working: the running worker stops, saying why.
            #expect(try await h.berth(["worker", "delete", "vpc-worker-1"]).status == 0)
            try await worker.waitForLog(containing: "The server refused this worker")
        }
    }

    @Test(
        "A job for a pool without workers waits, saying so in the log, and fails when the step's timeout passes; with the built-in worker off, so does a job of the default pool"
    )
    func emptyPool() async throws {
        try await Self.withHarness(serverArguments: ["--builtin-worker", "off"]) { h in
            #expect(try await h.berth(["worker-pool", "create", "empty"]).status == 0)
            for (project, pool) in [("Scripted", "empty"), ("Defaulted", "Default Worker Pool")] {
                let file = try h.write(
                    "\(project).yaml",
                    """
                    name: \(project)
                    steps:
                      - name: Say hello
                        type: run-aws-cli-script
                        properties:
                    \(project == "Scripted" ? "      workerPool: empty\n" : "")      timeoutSeconds: 3
                          script: echo hello
                    """)
                let applied = try await h.berth(["project", "apply", "-f", file])
                #expect(applied.status == 0, "\(applied.standardError)")
                #expect(try await h.berth(["release", "create", "--project", project, "--version", "1"]).status == 0)
                let deployed = try await h.berth([
                    "deploy", "--project", project, "--release", "1", "--environment", "Production", "--wait",
                ])
                #expect(deployed.status == 1, "\(deployed.standardOutput)")
                #expect(
                    deployed.standardOutput.contains("Waiting for a worker in the pool '\(pool)': none connected."),
                    "\(deployed.standardOutput)")
                #expect(
                    deployed.standardError.contains("no worker in the pool '\(pool)' took the job within 3 s (none connected)"),
                    "\(deployed.standardError)")
            }
        }
    }

    @Test(
        "Two workers in one pool share its jobs; kill -9 of the worker watching a rollout: the other carries the step on from what was recorded, and the deployment succeeds with one revision and one service"
    )
    func workerDiesMidRollout() async throws {
        // Rollouts last until the test ends them; a worker that stops answering loses its job after 5 s.
        let fake = FakeECS(settings: FakeECS.Settings(rolloutDuration: .seconds(3600)))
        try await Self.withHarness(fake: fake, serverArguments: ["--job-lease", "5"]) { h in
            #expect(try await h.berth(["worker-pool", "create", "fleet"]).status == 0)
            let token = try await h.token("fleet")
            var workers: [String: BerthWorkerProcess] = [:]
            for name in ["fleet-a", "fleet-b"] {
                let worker = try await BerthWorkerProcess.start(
                    server: h.server, pool: "fleet", name: name, token: token, directory: h.root.appendingPathComponent(name),
                    environment: h.workerEnvironment, arguments: ["--concurrency", "1"])
                try await worker.waitForLog(containing: "The worker is waiting for jobs")
                workers[name] = worker
            }
            for (index, cluster) in ["east", "west"].enumerated() {
                let target = try await h.berth([
                    "target", "create", "ecs", "--name", "web-\(index)", "--environment", "Production", "--role", "web",
                    "--region", "eu-west-1", "--cluster", cluster, "--worker-credentials", "--worker-pool", "fleet",
                ])
                #expect(target.status == 0, "\(target.standardError)")
            }
            #expect(try await h.berth(["project", "apply", "-f", try Self.webProject(h)]).status == 0)
            #expect(
                try await h.berth(["release", "create", "--project", "Web", "--version", "1", "--image", "app=shop/web:1"])
                    .status == 0)
            let started = try await h.berth([
                "deploy", "--project", "Web", "--release", "1", "--environment", "Production", "--output", "json",
            ])
            let taskID = try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String)

            // One job per target; each worker takes one at a time, so both have one.
            var log = ""
            for _ in 0..<300 {
                log = try await h.server.cli(["task", "log", taskID]).standardOutput
                if log.components(separatedBy: "Waiting for web to run web:").count == 3 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(log.contains("The worker fleet-a of the pool 'fleet' took the job."), "\(log)")
            #expect(log.contains("The worker fleet-b of the pool 'fleet' took the job."), "\(log)")

            try await workers["fleet-a"]?.killNow()
            _ = try await h.server.taskLog(taskID, containing: "The worker fleet-a stopped answering", within: 60)
            _ = try await h.server.taskLog(
                taskID, containing: "Carrying on where the worker fleet-a stopped in the middle of this step.", within: 30)
            // The survivor takes the job once its own is done: end the rollouts.
            fake.finishRollouts()
            _ = try await h.server.taskLog(taskID, containing: "Deployed Web 1 to Production.", within: 90)
            for _ in 0..<100
            where !(try await h.server.cli(["task", "log", taskID]).standardOutput.contains("The worker fleet-b")) {
                try await Task.sleep(for: .milliseconds(100))
            }
            var state: String?
            for _ in 0..<300 where state == nil || state == "executing" {
                let shown = try await h.server.cli(["task", "show", taskID, "--output", "json"])
                state = (try ServerEndToEndTests.json(shown.standardOutput)["task"] as? [String: Any])?["state"] as? String
                if state == "executing" { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(state == "succeeded")
            log = try await h.server.cli(["task", "log", taskID]).standardOutput
            #expect(log.components(separatedBy: "The worker fleet-b of the pool 'fleet' took the job.").count == 3, "\(log)")
            #expect(log.contains("was already changed to web:"), "\(log)")
            // Each cluster got one revision and one service: the survivor changed nothing twice.
            #expect(fake.taskDefinitions(family: "web").count == 2, "\(fake.taskDefinitions(family: "web"))")
            #expect(fake.calls["CreateService"] == 2)
            #expect(fake.calls["UpdateService"] == nil)
        }
    }

    @Test(
        "Workers that use the role of the machine they run on: one with IMDSv2 (on EC2), one with a web identity token file (in EKS); each deploys with its own identity"
    )
    func machineRoles() async throws {
        try await Self.withHarness { h in
            let roleARN = try await h.moto.createRole(
                named: "IRSA",
                trustPolicy:
                    #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.example.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#
            )
            // Neither worker has a key: one asks the metadata service, the other exchanges its token file.
            var machine = h.workerEnvironment
            machine["AWS_ACCESS_KEY_ID"] = nil
            machine["AWS_SECRET_ACCESS_KEY"] = nil
            let instanceKeys = Credentials(
                accessKeyID: h.workerEnvironment["AWS_ACCESS_KEY_ID"] ?? "",
                secretAccessKey: h.workerEnvironment["AWS_SECRET_ACCESS_KEY"] ?? "")
            let imds = FakeInstanceMetadataService(credentials: instanceKeys)
            try await withLocalServer(imds.router) { imdsURL in
                var ec2 = machine
                ec2["AWS_EC2_METADATA_DISABLED"] = nil
                ec2["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imdsURL
                // A loaded machine can take longer than IMDS's 1 s default to answer locally.
                ec2["AWS_METADATA_SERVICE_TIMEOUT"] = "10"
                let tokenFile = h.root.appendingPathComponent("eks-token")
                try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrZXIifQ.c2ln".write(to: tokenFile, atomically: true, encoding: .utf8)
                var eks = machine
                eks["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile.path
                eks["AWS_ROLE_ARN"] = roleARN
                eks["AWS_ROLE_SESSION_NAME"] = "irsa-worker"

                var workers: [BerthWorkerProcess] = []
                for (pool, environment) in [("ec2", ec2), ("eks", eks)] {
                    #expect(try await h.berth(["worker-pool", "create", pool]).status == 0)
                    let worker = try await BerthWorkerProcess.start(
                        server: h.server, pool: pool, name: "\(pool)-worker", token: try await h.token(pool),
                        directory: h.root.appendingPathComponent(pool), environment: environment)
                    try await worker.waitForLog(containing: "The worker is waiting for jobs")
                    workers.append(worker)
                    let target = try await h.berth([
                        "target", "create", "ecs", "--name", "\(pool)-web", "--environment", "Production", "--role", "web",
                        "--region", "eu-west-1", "--cluster", pool, "--worker-credentials", "--worker-pool", pool,
                    ])
                    #expect(target.status == 0, "\(target.standardError)")
                }
                let log = try await h.deployWeb().standardOutput
                #expect(log.contains("[1. Deploy web · ec2-web] On the worker ec2-worker"), "\(log)")
                #expect(log.contains("[1. Deploy web · ec2-web]   IMDSv2: used"), "\(log)")
                #expect(
                    log.contains("[1. Deploy web · ec2-web] Running as arn:aws:iam::123456789012:user/\(h.workerUser)"), "\(log)")
                #expect(log.contains("[1. Deploy web · eks-web] On the worker eks-worker"), "\(log)")
                #expect(log.contains("[1. Deploy web · eks-web]   web identity token file: used"), "\(log)")
                #expect(
                    log.contains("[1. Deploy web · eks-web] Running as arn:aws:sts::123456789012:assumed-role/IRSA/irsa-worker"),
                    "\(log)")
                #expect(imds.requestCounts.credentialRequests >= 1)
                #expect(imds.requestCounts.requestsWithoutToken == 0)
                for worker in workers { try await worker.terminate() }
            }
        }
    }

    /// The project Shop: one Deploy ECS service step on the targets `web`, whose service sits behind
    /// a blue and a green target group, with the strategy settings given (YAML, one per line).
    static func shopProject(_ h: Harness, strategy: String) throws -> String {
        let settings = strategy.split(separator: "\n").map { "      \($0)" }.joined(separator: "\n")
        return try h.write(
            "shop.yaml",
            """
            name: Shop
            steps:
              - name: Deploy web
                type: deploy-ecs-service
                targetRoles: [web]
                properties:
                  serviceName: web
            \(settings)
                  loadBalancers:
                    - targetGroupArn: arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/1
                      containerName: app
                      containerPort: 8080
                      advancedConfiguration:
                        alternateTargetGroupArn: arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/2
                        productionListenerRule: arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/1/2/3
                        roleArn: arn:aws:iam::123456789012:role/ecsInfrastructure
                  taskDefinition:
                    family: web
                    containerDefinitions: [{name: app, image: shop/web, memory: 256, portMappings: [{containerPort: 8080}]}]
            """)
    }

    @Test(
        "A blue/green deployment on an external worker stops at its PAUSE hook: berth task approve lets ECS continue to success; berth task reject rolls the next release back"
    )
    func pauseHookOnWorker() async throws {
        try await Self.withHarness { h in
            let worker = try await h.poolWithTarget("web")
            let project = try Self.shopProject(
                h,
                strategy: """
                    strategy: BLUE_GREEN
                    bakeTimeInMinutes: 0
                    lifecycleHooks: [{targetType: PAUSE, lifecycleStages: [POST_TEST_TRAFFIC_SHIFT]}]
                    """)
            let applied = try await h.berth(["project", "apply", "-f", project])
            #expect(applied.status == 0, "\(applied.standardError)")
            for (version, verb) in [("1", "approve"), ("2", "reject")] {
                #expect(
                    try await h.berth([
                        "release", "create", "--project", "Shop", "--version", version, "--image", "app=shop/web:\(version)",
                    ])
                    .status == 0)
                let started = try await h.berth([
                    "deploy", "--project", "Shop", "--release", version, "--environment", "Production", "--output", "json",
                ])
                let taskID = try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String)
                let asked = try await h.server.taskLog(taskID, containing: "ECS waits at the PAUSE hook", within: 120)
                #expect(asked.contains("berth task approve \(taskID)"), "\(asked)")
                let answered = try await h.berth(["task", verb, taskID, "--note", "test traffic looked at"])
                #expect(answered.status == 0, "\(answered.standardError)")
                let waited = try await h.berth(["task", "log", taskID, "--follow"])
                let log = waited.standardOutput
                if verb == "approve" {
                    #expect(waited.status == 0, "\(waited.standardOutput) \(log)")
                    #expect(log.contains("ECS continues the deployment (PAUSE hook"), "\(log)")
                    #expect(log.contains("Done: ECS's deployment of web:1 is SUCCESSFUL."), "\(log)")
                    #expect(log.contains("The worker web-worker of the pool 'web' took the job."), "\(log)")
                } else {
                    #expect(waited.status == 4, "rolled back is exit 4: \(waited.standardOutput) \(log)")
                    #expect(log.contains("asked ECS to roll the deployment back (PAUSE hook"), "\(log)")
                }
            }
            #expect(h.fake.primaryTaskDefinition(ofService: "web") == "web:1")
            #expect(worker.isRunning)
            let audit = try await h.berth(["audit", "list", "--output", "json"])
            #expect(
                audit.standardOutput.contains("approveTask") && audit.standardOutput.contains("rejectTask"),
                "\(audit.standardOutput)")
        }
    }

    @Test(
        "On an external worker: release verify reports a missing ECR image and exits 1, release diff prints the changed image, a canary whose alarm fires is rolled back (exit 4), wait untilStage returns at the bake time"
    )
    func previewsAndCanaryOnWorker() async throws {
        try await Self.withHarness { h in
            let worker = try await h.poolWithTarget("web")
            let project = try Self.shopProject(
                h,
                strategy: """
                    strategy: CANARY
                    canaryConfiguration: {canaryPercent: 10.0, canaryBakeTimeInMinutes: 1}
                    bakeTimeInMinutes: 600
                    wait: {untilStage: BAKE_TIME}
                    alarms: {alarmNames: [web-5xx], enable: true, rollback: true}
                    """)
            #expect(try await h.berth(["project", "apply", "-f", project]).status == 0)
            let missing = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:9"
            for (version, image) in [("1", "shop/web:1"), ("2", "shop/web:alarm"), ("3", missing)] {
                #expect(
                    try await h.berth(["release", "create", "--project", "Shop", "--version", version, "--image", "app=\(image)"])
                        .status == 0)
            }
            let first = try await h.berth([
                "deploy", "--project", "Shop", "--release", "1", "--environment", "Production", "--wait",
            ])
            #expect(first.status == 0, "\(first.standardOutput) \(first.standardError)")
            #expect(first.standardOutput.contains("Reached BAKE_TIME (wait untilStage BAKE_TIME); ECS finishes the deployment."))

            let verify = try await h.berth([
                "release", "verify", "--project", "Shop", "--release", "3", "--environment", "Production",
            ])
            #expect(verify.status == 1, "\(verify.standardOutput) \(verify.standardError)")
            #expect(
                verify.standardOutput.contains("Verify ✗ image \(missing) (app): RepositoryNotFoundException"),
                "\(verify.standardOutput)")
            #expect(verify.standardOutput.contains("The worker web-worker of the pool 'web' took the job."))

            let diff = try await h.berth([
                "release", "diff", "--project", "Shop", "--release", "3", "--environment", "Production",
            ])
            #expect(diff.status == 0, "\(diff.standardOutput) \(diff.standardError)")
            #expect(diff.standardOutput.contains(#"-      "image": "shop/web:1","#), "\(diff.standardOutput)")
            #expect(diff.standardOutput.contains(#"+      "image": "\#(missing)","#), "\(diff.standardOutput)")
            #expect(h.fake.taskDefinitions(family: "web").count == 1, "a preview registered a revision")

            let canary = try await h.berth([
                "deploy", "--project", "Shop", "--release", "2", "--environment", "Production", "--wait",
            ])
            #expect(canary.status == 4, "rolled back is exit 4: \(canary.standardOutput) \(canary.standardError)")
            #expect(
                canary.standardOutput.contains("CloudWatch alarm web-5xx is in ALARM state; alarm web-5xx fired"),
                "\(canary.standardOutput)")
            #expect(worker.isRunning)
        }
    }

    @Test(
        "Cancelling a deployment whose Run ECS task runs on an external worker: the worker stops the ECS task, and the log says so"
    )
    func cancelOnWorker() async throws {
        var settings = FakeECS.Settings()
        settings.taskDuration = .seconds(3600)
        try await Self.withHarness(fake: FakeECS(settings: settings)) { h in
            let worker = try await h.poolWithTarget("jobs")
            let keys = Credentials(
                accessKeyID: h.workerEnvironment["AWS_ACCESS_KEY_ID"] ?? "",
                secretAccessKey: h.workerEnvironment["AWS_SECRET_ACCESS_KEY"] ?? "")
            let ecs = ECSClient(
                client: try AWSClient(
                    service: .ecs, region: "eu-west-1", credentialProvider: StaticCredentialProvider(keys),
                    environment: ["AWS_ENDPOINT_URL": h.fakeURL], retryPolicy: .none))
            _ = try await ecs.registerTaskDefinition(
                ECS.RegisterTaskDefinitionRequest(
                    family: "migrate",
                    containerDefinitions: [ECS.ContainerDefinition(name: "migrate", image: "shop/migrate:1", essential: true)]))
            let project = try h.write(
                "jobs.yaml",
                """
                name: Jobs
                steps:
                  - name: Migrate
                    type: run-ecs-task
                    targetRoles: [jobs]
                    properties:
                      taskDefinition: migrate
                      launchType: FARGATE
                """)
            #expect(try await h.berth(["project", "apply", "-f", project]).status == 0)
            #expect(try await h.berth(["release", "create", "--project", "Jobs", "--version", "1"]).status == 0)
            let started = try await h.berth([
                "deploy", "--project", "Jobs", "--release", "1", "--environment", "Production", "--output", "json",
            ])
            let taskID = try #require(try ServerEndToEndTests.json(started.standardOutput)["taskId"] as? String)
            _ = try await h.server.taskLog(taskID, containing: "Started ")
            // The worker, as an attacker holding its credential and a live job, tries to lock a
            // service of another cluster: refused.
            let jobID = try #require(worker.log.firstMatch(of: /job\.id=(job-[a-z0-9]+)/)?.1)
            let file = try JSONSerialization.jsonObject(with: Data(contentsOf: worker.configFile)) as? [String: Any]
            var lock = HTTPClientRequest(url: h.server.url + "/api/worker/jobs/\(jobID)/lock")
            lock.method = .POST
            lock.headers.add(name: "Authorization", value: "Bearer \(try #require(file?["credential"] as? String))")
            lock.body = .bytes(.init(string: #"{"key":"eu-west-1/other/payments","release":false}"#))
            let refused = try await HTTPClient.shared.execute(lock, timeout: .seconds(10))
            #expect(refused.status.code == 400)
            #expect(
                String(buffer: try await refused.body.collect(upTo: 1 << 16)).contains(
                    "may lock only services of its own target's cluster"))
            // …and, from a run-task job, tries to put a question to the people who approve: refused,
            // and nothing is asked.
            var ask = HTTPClientRequest(url: h.server.url + "/api/worker/jobs/\(jobID)/ask")
            ask.method = .POST
            ask.headers.add(name: "Authorization", value: "Bearer \(try #require(file?["credential"] as? String))")
            ask.body = .bytes(.init(string: #"{"subject":"hook:x","instructions":"Approve to wire money"}"#))
            let unasked = try await HTTPClient.shared.execute(ask, timeout: .seconds(10))
            #expect(unasked.status.code == 403)
            #expect(
                String(buffer: try await unasked.body.collect(upTo: 1 << 16)).contains(
                    "only the ECS service steps ask a person"))
            let pending = try await h.berth(["task", "approve", taskID])
            #expect(pending.status != 0, "\(pending.standardOutput)")
            #expect(try await h.berth(["task", "cancel", taskID]).status == 0)
            let log = try await h.server.taskLog(taskID, containing: "The Berth deployment was cancelled.")
            #expect(log.contains("[1. Migrate · jobs] Stopped "), "\(log)")
            #expect(h.fake.stopTaskReasons.values.contains("The Berth deployment was cancelled."), "\(h.fake.stopTaskReasons)")
            try await worker.waitForLog(containing: "Finished a job")
            #expect(worker.isRunning)
        }
    }
}
