import AWSCore
import BerthDomain
import BerthStore
import BerthWorker
import Crypto
import Foundation

/// A manual-intervention step: the deployment waits, on the server, for a person to approve or
/// reject (`berth task approve|reject`, the API, the task page). The question is stored, so any
/// node takes the answer and a node that adopts the deployment waits on the same question; the
/// answer is read from the database every `pollInterval`.
struct ManualIntervention {
    let store: BerthStore
    let clock: any AWSClock
    /// The audit chain's key: a timeout's rejection is an event of the server's.
    let auditKey: SymmetricKey?
    var pollInterval: Duration = .milliseconds(500)

    /// Waits for the answer. - Returns: the step's outcome: succeeded when approved, failed when
    /// rejected or when nobody answered within `timeoutMinutes`. - Throws: when the task is
    /// cancelled (the wait ends with it).
    func run(step: DeploymentStep, index: Int, taskID: String, log: TaskLogWriter) async throws -> StepOutcome {
        let section = log.section("\(index + 1). \(step.name) · server")
        let properties = step.properties
        var instructions = ""
        if case .string(let text)? = properties["instructions"] { instructions = text }
        var teams: [String] = []
        if case .array(let values)? = properties["responsibleTeams"] {
            teams = values.compactMap { if case .string(let team) = $0 { team } else { nil } }
        }
        // As validated at apply: a whole number of minutes, written as a number or as text.
        let timeout = try StepProperties(step: step.name, json: properties).int("timeoutMinutes").map { TimeInterval($0) * 60 }
        let fresh = Intervention(
            taskID: taskID, stepIndex: index, stepName: step.name, instructions: instructions, teams: teams,
            createdAt: clock.now())
        let asked = try await store.askIntervention(fresh)
        // A node that adopted the deployment finds the question asked already: it says nothing twice.
        if asked.id == fresh.id {
            await section.info("Waiting for a person to approve or reject: \(instructions)")
            await section.info(
                "Who may answer: "
                    + (teams.isEmpty
                        ? "anyone who may deploy this project to this environment"
                        : "members of \(teams.map { "'\($0)'" }.joined(separator: ", "))")
                    + ". Answer with: berth task approve \(taskID) [--note …] or berth task reject \(taskID) [--note …]"
                    + (timeout.map { "; it is rejected after \(Int($0 / 60)) minutes without an answer." } ?? "."))
        }
        while true {
            try Task.checkCancellation()
            guard let current = try await store.intervention(id: asked.id) else {
                return .failed("The manual intervention of the step '\(step.name)' is gone from the database.")
            }
            if let answer = current.answer {
                let who = current.answeredBy ?? "someone"
                let note = current.note.map { ": \($0)" } ?? "."
                switch answer {
                case .approved:
                    await section.info("Approved by \(who)\(note)")
                    return StepOutcome(state: .succeeded)
                case .rejected:
                    await section.error("Rejected by \(who)\(note)")
                    return .failed("rejected by \(who)\(note)")
                }
            }
            if let timeout, clock.now().timeIntervalSince(current.createdAt) >= timeout {
                // Recorded as the answer (and audited, by the server), so that a late approval finds the question closed.
                let note = "no answer within \(Int(timeout / 60)) minutes"
                let event = auditKey.map { key in
                    AuditTrail.Pending(
                        draft: AuditEvent(
                            sequence: 0, occurredAt: clock.now(), actor: nil, keyName: nil, address: nil, action: "rejectTask",
                            record: "tasks/\(taskID)",
                            details: .object([("step", .string(step.name)), ("note", .string(note))])),
                        key: key)
                }
                _ = try await AuditTrail.$pending.withValue(event) {
                    try await store.answerIntervention(id: current.id, .rejected, by: "the server", note: note, at: clock.now())
                }
                continue
            }
            try await clock.sleep(for: pollInterval)
        }
    }
}
