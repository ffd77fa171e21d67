import AWSECS
import BerthDev
import BerthTestSupport
import Foundation
import Testing

/// A deployment outlives the process that ran it: `kill -9` of the server in the middle, and the
/// next start of the node carries it on from what its steps recorded (on several nodes, another
/// node does: ``ClusterEndToEndTests``).
@Suite("Deployments carry on after their node stopped")
struct DeploymentContinuationTests {
    @Test(
        "Killed while a rollout is watched, the deployment carries on after a restart: finished steps are not run again, their outputs (sensitive ones masked) reach later steps, the same rollout ends it, no second revision"
    )
    func rolloutContinues() async throws {
        // The rollout lasts until the test ends it, after the restart: a loaded machine cannot let
        // it end before the kill.
        try await DeploymentEndToEndTests.withHarness(fake: FakeECS.Settings(rolloutDuration: .seconds(3600))) { h in
            #expect(
                try await h.berth([
                    "target", "create", "ecs", "--name", "prod", "--environment", "Production", "--role", "web", "--region",
                    "eu-west-1", "--cluster", "prod", "--worker-credentials",
                ]).status == 0)
            let project = try h.write(
                "shop.yaml",
                """
                name: Shop
                steps:
                  - name: Prepare
                    type: run-aws-cli-script
                    properties:
                      script: "echo preparing; set_berthvariable Ticket T-42; set_berthvariable Pin $((45403631 * 2)) -sensitive"
                  - name: Deploy web
                    type: deploy-ecs-service
                    targetRoles: [web]
                    properties:
                      serviceName: web
                      desiredCount: 2
                      timeoutSeconds: 120
                      taskDefinition:
                        family: web
                        containerDefinitions: [{name: app, image: "shop/web:placeholder", memory: 256}]
                  - name: Report
                    type: run-aws-cli-script
                    properties:
                      script: "echo report #{Berth.Action[Prepare].Output.Ticket} pin #{Berth.Action[Prepare].Output.Pin} revision #{Berth.Action[Deploy web].Output.TaskDefinitionRevision}"
                """)
            #expect(try await h.berth(["project", "apply", "-f", project]).status == 0)
            #expect(
                try await h.berth(["release", "create", "--project", "Shop", "--version", "1", "--image", "app=shop/web:ok"])
                    .status == 0)
            let taskID = try await h.deploy("Shop", until: "Waiting for web to run web:1")

            try await h.killAndRestart()
            _ = try await h.server.taskLog(taskID, containing: "was already changed to web:1")
            h.fake.finishRollouts()
            let followed = try await h.berth(["task", "log", taskID, "--follow"])
            let after = followed.standardOutput
            #expect(followed.status == 0, "\(after)\(followed.standardError)")
            #expect(after.contains("The server stopped while it ran this task (node "), "\(after)")
            #expect(after.contains("took it over at"), "\(after)")
            #expect(after.contains("Carrying on from what earlier runs recorded: 1 step run finished already"), "\(after)")
            #expect(after.contains("Finished earlier (recorded by node"), "\(after)")
            #expect(after.contains("was registered before node"), "\(after)")
            #expect(after.contains("was already changed to web:1"), "\(after)")
            #expect(after.contains("Done:"), "\(after)")
            // The script of the first step ran once; the third step sees its outputs.
            #expect(after.components(separatedBy: "preparing").count == 2, "\(after)")
            #expect(after.contains("report T-42 pin ******** revision 1"), "\(after)")
            // ECS saw one revision and one new service: nothing was done twice.
            #expect(h.fake.taskDefinitions(family: "web").count == 1, "\(h.fake.taskDefinitions(family: "web"))")
            #expect(h.fake.calls["CreateService"] == 1)
            #expect(h.fake.calls["UpdateService"] == nil)
            #expect(h.fake.primaryTaskDefinition(ofService: "web") == "web:1")
            // The sensitive output (made by the script, so the release does not hold it) is sealed
            // where it is recorded, and masked wherever it is shown.
            let leaks = h.everything.filter { $0.contains("90807262") }
            #expect(leaks.isEmpty, "the sensitive output is stored or shown in clear: \(leaks.map { $0.prefix(300) })")
        }
    }

    @Test("A script that was running when its node was killed is not run again: its step fails, naming the node")
    func scriptIsNotRunTwice() async throws {
        try await DeploymentEndToEndTests.withHarness { h in
            let project = try h.write(
                "slow.yaml",
                """
                name: Slow
                steps:
                  - name: Migrate
                    type: run-aws-cli-script
                    properties:
                      script: "echo migrating; sleep 300"
                """)
            #expect(try await h.berth(["project", "apply", "-f", project]).status == 0)
            #expect(try await h.berth(["release", "create", "--project", "Slow", "--version", "1"]).status == 0)
            let taskID = try await h.deploy("Slow", until: "migrating")

            try await h.killAndRestart()
            let followed = try await h.berth(["task", "log", taskID, "--follow"])
            #expect(followed.status == 1, "\(followed.standardOutput)")
            #expect(
                followed.standardError.contains("stopped while the script ran; a script is not run a second time"),
                "\(followed.standardError)")
            #expect(
                followed.standardOutput.components(separatedBy: "migrating").count == 2, "run once: \(followed.standardOutput)")
        }
    }

    @Test(
        "A server stopped gracefully while a Run ECS task step waits hands the deployment over: the task keeps running, the next start waits for it instead of starting another, and a follower waits for the server to come back"
    )
    func gracefulHandover() async throws {
        // The task runs until the test ends it, after the restart: a loaded machine cannot let it
        // end before the shutdown.
        var settings = FakeECS.Settings()
        settings.taskDuration = .seconds(3600)
        try await DeploymentEndToEndTests.withHarness(fake: settings) { h in
            #expect(
                try await h.berth([
                    "target", "create", "ecs", "--name", "prod", "--environment", "Production", "--role", "jobs", "--region",
                    "eu-west-1", "--cluster", "prod", "--worker-credentials",
                ]).status == 0)
            _ = try await h.fakeECS().registerTaskDefinition(
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
            let taskID = try await h.deploy("Jobs", until: "Started ")

            // A follower started now sees the server go and come back (its address stays the same).
            let server = h.server
            async let following = server.cli(["task", "log", taskID, "--follow"])
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await h.server.terminate() == 0, "\(h.server.log)")
            #expect(h.fake.stopTaskReasons.isEmpty, "the shutdown stopped the ECS task: \(h.fake.stopTaskReasons)")
            // Nothing answers at the address now: a command that does not wait says so at once.
            let refused = try await h.berth(["task", "show", taskID])
            #expect(refused.status == 3)
            #expect(refused.standardError.contains("Cannot reach the Berth server at"), "\(refused.standardError)")
            #expect(refused.duration < .seconds(20), "an unreachable server took \(refused.duration) to report")
            h.server = try await BerthServerProcess.start(
                dataDirectory: h.server.dataDirectory, environment: h.serverEnvironment, apiKey: h.server.apiKey,
                arguments: h.serverArguments, port: server.port)
            // Adopted and waiting for the same task: now it ends.
            _ = try await h.server.taskLog(taskID, containing: "started before node")
            h.fake.finishRunningTasks()

            let followed = try await following
            #expect(followed.standardError.contains("trying again for up to 60 s"), "\(followed.standardError)")
            let after = followed.standardOutput
            #expect(followed.status == 0, "\(after)\(followed.standardError)")
            #expect(after.contains("is shutting down: it hands this task over"), "\(after)")
            #expect(after.contains("handed this task over as it shut down. Node"), "\(after)")
            #expect(after.contains("started before node"), "\(after)")
            #expect(h.fake.calls["RunTask"] == 1)
            #expect(h.fake.stopTaskReasons.isEmpty, "\(h.fake.stopTaskReasons)")
        }
    }
}
