import Foundation

/// A manual intervention a deployment waits on: its instructions, who may answer (members of
/// `teams`; without teams, whoever may deploy the project to the environment), and the answer once
/// given. Stored, so that any node answers it and a node that adopts the deployment waits on the
/// same one.
public struct Intervention: Sendable, Hashable {
    public enum Answer: String, Sendable, Hashable, Codable {
        case approved, rejected
    }

    public var id: String
    public var taskID: String
    public var stepIndex: Int
    public var stepName: String
    /// What within the step is asked, when a step asks more than once (an ECS PAUSE hook:
    /// `hook:<target>:<service deployment>:<hook id>`); empty for a manual-intervention step.
    public var subject: String
    public var instructions: String
    /// Team names.
    public var teams: [String]
    public var createdAt: Date
    public var answer: Answer?
    public var answeredBy: String?
    public var answeredAt: Date?
    public var note: String?

    public init(
        id: String = RecordID.make("int"), taskID: String, stepIndex: Int, stepName: String, instructions: String,
        teams: [String], createdAt: Date, subject: String = ""
    ) {
        self.id = id
        self.taskID = taskID
        self.stepIndex = stepIndex
        self.stepName = stepName
        self.subject = subject
        self.instructions = instructions
        self.teams = teams
        self.createdAt = createdAt
    }
}
