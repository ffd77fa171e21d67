import BerthDomain
import Foundation
import Testing

@Suite("Rollout snapshots in the task log")
struct RolloutSnapshotTests {
    @Test("A snapshot of a service written as a log line reads back the same; other lines are not snapshots")
    func roundTrip() throws {
        let observation = ServiceObservation(
            status: "ACTIVE",
            rollouts: [
                .init(
                    id: "ecs-svc/2", status: "ACTIVE", taskDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/web:7",
                    rolloutState: "COMPLETED", desiredCount: 3, runningCount: 3),
                .init(
                    id: "ecs-svc/3", status: "PRIMARY", taskDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/web:8",
                    rolloutState: "IN_PROGRESS", desiredCount: 3, runningCount: 1, pendingCount: 2),
                .init(
                    id: "ecs-svc/1", status: "INACTIVE", taskDefinition: "arn:aws:ecs:eu-west-1:1:task-definition/web:6",
                    rolloutState: nil, desiredCount: 0, runningCount: 0),
            ])
        let snapshot = RolloutSnapshot(observation)
        #expect(snapshot.line == "Rollout: web:8 PRIMARY 1/3 running, 2 pending · web:7 ACTIVE 3/3 running")
        #expect(RolloutSnapshot.parse(snapshot.line) == snapshot)
        #expect(snapshot.revisions.map(\.name) == ["web:8", "web:7"], "the primary first; inactive ones left out")
        for line in ["1 of 3 running, 2 pending (rollout IN_PROGRESS; 2 deployments)", "Rollout: nothing", "Rollout: "] {
            #expect(RolloutSnapshot.parse(line) == nil, "\(line)")
        }
    }
}
