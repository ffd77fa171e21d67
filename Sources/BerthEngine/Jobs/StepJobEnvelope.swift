import BerthDomain
import BerthStore
import BerthWorker
import Foundation

/// What the store keeps of a job queued for an external worker, sealed under the master key: the
/// job (which holds its credentials) and how to mint the job's next OIDC token, which only the
/// server can do.
public struct StepJobEnvelope: Sendable, Codable {
    public var job: StepJob
    public var tokenRecipe: TokenRecipe?

    public func seal(jobID: String, with secrets: SecretBox) throws -> String {
        let json = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        return try secrets.seal(json, for: .stepJob(jobID: jobID)).ciphertext
    }

    public static func open(_ record: StepJobRecord, with secrets: SecretBox) throws -> StepJobEnvelope {
        let json = try secrets.open(SealedSecret(ciphertext: record.sealedJob), for: .stepJob(jobID: record.id))
        do {
            return try JSONDecoder().decode(StepJobEnvelope.self, from: Data(json.utf8))
        } catch {
            throw BerthError(.internalError, "The step job \(record.id) cannot be read: \(error)")
        }
    }
}
