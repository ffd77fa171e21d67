import BerthDomain
import BerthEngine
import BerthServer
import BerthStore
import Foundation
import HTTPTypes
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A node whose task was taken over by another node stops working on it and writes nothing more.
@Suite("Losing a lease")
struct LeaseLossTests {
    @Test("When another node takes a running task over, this node kills its script and cannot change the task or its log")
    func takenOverWorkStops() async throws {
        try await TestServer.with(configure: {
            // A lease long enough that this node keeps it under the full suite's load (a node that
            // misses its own renewals stops its task, and adopts it again, which is not this test's
            // subject); the takeover below comes from a clock a minute ahead.
            $0.engine.taskLease = .seconds(30)
            $0.engine.leaseRenewal = .seconds(1)
        }) { server in
            #expect(
                try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Production"]).status
                    == .created)
            let step: [String: Any] = [
                "name": "Run", "type": "run-aws-cli-script", "properties": ["script": "echo \"pid $$\"; sleep 300"],
            ]
            #expect(try await server.request(.put, "/api/spaces/default/projects/Long", json: ["steps": [step]]).status == .ok)
            try await DeploymentAPITests.release(server, project: "Long", version: "1")
            let deployment = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "long", "release": "1", "environment": "production"])
            let taskID = try #require(deployment.json["taskId"] as? String, "\(deployment.text)")
            var pid: Int32?
            // Generous: the whole suite (a browser among it) shares two cores.
            for _ in 0..<2400 where pid == nil {
                let lines = try await server.server.store.taskLog(taskID: taskID).map(\.message)
                pid = lines.lazy.compactMap { $0.firstMatch(of: /^pid (\d+)$/).flatMap { Int32($0.output.1) } }.first
                if pid == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let script = try #require(pid, "the script never started")

            // Another node finds the lease run out (its clock a minute ahead) and takes the task over.
            let taken = try await server.server.store.adoptAbandonedTasks(
                by: TaskOwner(node: "other"), limit: 5, at: Date().addingTimeInterval(60),
                leaseUntil: Date().addingTimeInterval(600)
            ) { previous, _ in "The node \(previous ?? "?") stopped answering; taken over by other." }
            #expect(taken.map(\.task.id) == [taskID])
            let linesAtTakeover = try await server.server.store.taskLog(taskID: taskID).count

            for _ in 0..<300 where kill(script, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
            #expect(kill(script, 0) != 0, "the script of a task taken over by another node kept running")
            try await Task.sleep(for: .seconds(2))
            let task = try #require(try await server.server.store.task(id: taskID))
            // It is the other node's now: this one neither finished nor failed it.
            #expect(task.state == .executing)
            #expect(task.ownerNode == "other", "\(task)")
            #expect(try await server.server.store.taskLog(taskID: taskID).count == linesAtTakeover, "the old holder wrote on")
        }
    }
}
