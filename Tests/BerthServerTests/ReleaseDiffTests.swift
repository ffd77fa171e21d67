import BerthDev
import BerthDomain
import BerthServer
import BerthStore
import Foundation
import HTTPTypes
import Testing

@testable import BerthWorker

/// `berth release diff`: the task definition and service settings a release would apply, against
/// what runs now, without changing anything.
@Suite("Release diff")
struct ReleaseDiffTests {
    @Test(
        "A diff shows exactly the changed image, environment variable (as a fingerprint, never its value) and desired count, masks a sensitive value, and changes nothing"
    )
    func diff() async throws {
        let ecs = FakeECS()
        try await DeploymentAPITests.withProductionTarget(ecs: ecs) { server in
            func apply(count: Int, region: String, label: String) async throws {
                let step: [String: Any] = [
                    "name": "Deploy", "type": "deploy-ecs-service", "targetRoles": ["web"],
                    "properties": [
                        "serviceName": "web", "desiredCount": count, "wait": false,
                        "taskDefinition": [
                            "family": "web",
                            "containerDefinitions": [
                                [
                                    "name": "web", "image": "shop/web:placeholder", "memory": 256,
                                    "dockerLabels": ["token": "#{DbPassword}\(label)"],
                                    "portMappings": [["containerPort": 8080]],
                                    "environment": [
                                        ["name": "REGION", "value": region], ["name": "DB_PASSWORD", "value": "#{DbPassword}"],
                                    ],
                                ]
                            ],
                        ],
                    ],
                ]
                let applied = try await server.request(.put, "/api/spaces/default/projects/Shop", json: ["steps": [step]])
                #expect(applied.status == .ok, "\(applied.text)")
            }
            try await apply(count: 1, region: "eu-west-1", label: "")
            // A quote and a backslash: JSON escapes them, so the masking must happen before rendering.
            let secret = #"hun"ter\2-"# + UUID().uuidString.prefix(8)
            let variable = try await server.request(
                .post, "/api/spaces/default/projects/shop/variables",
                json: ["name": "DbPassword", "value": secret, "type": "sensitive"])
            #expect(variable.status == .ok || variable.status == .created, "\(variable.text)")
            for (version, image) in [("1", "shop/web:1"), ("2", "shop/web:2")] {
                if version == "2" { try await apply(count: 3, region: "eu-central-1", label: "-v2") }
                let release = try await server.request(
                    .post, "/api/spaces/default/projects/shop/releases", json: ["version": version, "images": ["web": image]])
                #expect(release.status == .created, "\(release.text)")
                if version == "1" {
                    let (task, log) = try await DeploymentAPITests.deploy(server, project: "shop", release: "1")
                    #expect(task.state == .succeeded, "\(log)")
                }
            }
            let registered = ecs.taskDefinitions(family: "web").count
            let queued = try await server.request(
                .post, "/api/spaces/default/projects/shop/releases/2/diff", json: ["environment": "Production"])
            #expect(queued.status == .accepted && queued.json["kind"] as? String == "release-diff", "\(queued.text)")
            let taskID = try #require(queued.json["id"] as? String)
            let task = try await server.finishedTask(taskID)
            let log = try await server.server.store.taskLog(taskID: taskID).map(\.message)
            #expect(task.state == .succeeded, "\(task) \(log)")
            #expect(log.contains("Task definition: web:1 → web (this release):"), "\(log)")
            #expect(log.contains("--- web:1"), "\(log)")
            #expect(log.contains("+++ web (this release)"), "\(log)")
            let removed = log.filter { $0.hasPrefix("-") && !$0.hasPrefix("---") }
            let added = log.filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }
            #expect(removed.count == 4 && added.count == 4, "removed \(removed), added \(added)")
            #expect(removed.contains { $0.contains(#""image": "shop/web:1""#) }, "\(removed)")
            #expect(added.contains { $0.contains(#""image": "shop/web:2""#) }, "\(added)")
            // The changed variable shows as two different fingerprints, its values nowhere in the diff.
            let before = try #require(removed.first { $0.contains(#""value": "(value "#) }, "\(removed)")
            let after = try #require(added.first { $0.contains(#""value": "(value "#) }, "\(added)")
            #expect(before.dropFirst() != after.dropFirst())
            #expect(!(removed + added).joined().contains("eu-west-1") && !(removed + added).joined().contains("eu-central-1"))
            // A sensitive value inside other text is masked before the JSON escapes it.
            #expect(removed.contains { $0.contains(#""token": "********""#) }, "\(removed)")
            #expect(added.contains { $0.contains(#""token": "********-v2""#) }, "\(added)")
            // Removals come before additions, as in diff(1).
            let firstRemoved = try #require(log.firstIndex { $0.hasPrefix("-") && !$0.hasPrefix("---") })
            let firstAdded = try #require(log.firstIndex { $0.hasPrefix("+") && !$0.hasPrefix("+++") })
            #expect(firstRemoved < firstAdded)
            #expect(removed.contains { $0.contains(#""desiredCount": 1"#) }, "\(removed)")
            #expect(added.contains { $0.contains(#""desiredCount": 3"#) }, "\(added)")
            // The sensitive value is in both definitions, unchanged, and masked wherever it shows.
            let text = log.joined(separator: "\n")
            #expect(!text.contains(secret) && !text.contains(#"hun\"ter\\2"#), "\(log)")
            #expect(ecs.taskDefinitions(family: "web").count == registered, "a diff registered a revision")
            #expect(ecs.primaryTaskDefinition(ofService: "web") == "web:1")
            #expect(
                try await server.request(.get, "/api/spaces/default/deployments?project=shop&latest=true").items.map {
                    $0["release"] as? String
                } == ["1"])
        }
    }
}

@Suite("Unified diff")
struct UnifiedDiffTests {
    @Test("Hunks as diff(1) writes them: removals first, three lines of context, an empty side named by the line before")
    func hunks() {
        #expect(UnifiedDiff.lines(from: ["a", "b"], to: ["a", "b"], fromName: "old", toName: "new").isEmpty)
        let lines = (1...10).map(String.init)
        var changed = lines
        changed[4] = "five"
        #expect(
            UnifiedDiff.lines(from: lines, to: changed, fromName: "old", toName: "new") == [
                "--- old", "+++ new", "@@ -2,7 +2,7 @@", " 2", " 3", " 4", "-5", "+five", " 6", " 7", " 8",
            ])
        #expect(
            UnifiedDiff.lines(from: [], to: ["x", "y"], fromName: "old", toName: "new") == [
                "--- old", "+++ new", "@@ -0,0 +1,2 @@", "+x", "+y",
            ])
        #expect(
            UnifiedDiff.lines(from: ["x"], to: [], fromName: "old", toName: "new") == [
                "--- old", "+++ new", "@@ -1,1 +0,0 @@", "-x",
            ])
        // Two changes far apart are two hunks.
        var twice = (1...20).map(String.init)
        twice[1] = "two"
        twice[17] = "eighteen"
        let hunks = UnifiedDiff.lines(from: (1...20).map(String.init), to: twice, fromName: "o", toName: "n").filter {
            $0.hasPrefix("@@")
        }
        #expect(hunks == ["@@ -1,5 +1,5 @@", "@@ -15,6 +15,6 @@"])
    }

    @Test("Inputs too large to align in bounded memory still diff correctly: the middle as removed, then added")
    func large() {
        let old = (0..<3000).map { "old \($0)" }
        let new = (0..<3000).map { "new \($0)" }
        let lines = UnifiedDiff.lines(from: ["head"] + old + ["tail"], to: ["head"] + new + ["tail"], fromName: "o", toName: "n")
        #expect(lines.filter { $0.hasPrefix("-") && $0 != "--- o" }.count == 3000)
        #expect(lines.filter { $0.hasPrefix("+") && $0 != "+++ n" }.count == 3000)
        #expect(lines[2] == "@@ -1,3002 +1,3002 @@")
    }
}
