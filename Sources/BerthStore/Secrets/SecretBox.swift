import BerthDomain
import Crypto
import Foundation

/// Seals secrets with AES-256-GCM under the master key. Each secret is bound to its record and field
/// (the additional authenticated data), so a ciphertext copied to another record does not open.
///
/// ```swift
/// let sealed = try box.seal(secretKey, for: .accountSecretKey(accountID: account.id))
/// let clear = try box.open(sealed, for: .accountSecretKey(accountID: account.id))
/// ```
public struct SecretBox: Sendable {
    /// Where a secret belongs; the binding is part of the authenticated data.
    public struct Binding: Sendable, Hashable {
        public let value: String

        public init(table: String, recordID: String, field: String) {
            value = "berth:v1:\(table):\(recordID):\(field)"
        }

        public static func accountSecretKey(accountID: String) -> Binding {
            Binding(table: "accounts", recordID: accountID, field: "secret_key")
        }

        /// Also opens the copy a release froze: the binding names the variable, not the row.
        public static func projectVariable(variableID: String) -> Binding {
            Binding(table: "project_variables", recordID: variableID, field: "value")
        }

        public static func oidcSigningKey(keyID: String) -> Binding {
            Binding(table: "oidc_signing_keys", recordID: keyID, field: "private_key")
        }

        /// A step's recorded outcome on a target: its output variables, sensitive ones included.
        public static func stepOutcome(taskID: String, at key: StepProgress.Key) -> Binding {
            Binding(
                table: "deployment_progress", recordID: "\(taskID)/\(key.stepIndex)/\(key.targetID ?? "")", field: "outcome")
        }

        /// A step job waiting for, or held by, an external worker: it holds the job's credentials.
        public static func stepJob(jobID: String) -> Binding {
            Binding(table: "step_jobs", recordID: jobID, field: "job")
        }

        /// The outcome a worker reported for a step job.
        public static func stepJobOutcome(jobID: String) -> Binding {
            Binding(table: "step_jobs", recordID: jobID, field: "outcome")
        }
    }

    static let versionPrefix = "v1:"
    let masterKey: MasterKey

    public init(masterKey: MasterKey) {
        self.masterKey = masterKey
    }

    public func seal(_ secret: String, for binding: Binding) throws -> SealedSecret {
        let box = try AES.GCM.seal(Data(secret.utf8), using: masterKey.key, authenticating: Data(binding.value.utf8))
        guard let combined = box.combined else {
            throw BerthError(.internalError, "AES-GCM produced no combined ciphertext.")
        }
        return SealedSecret(ciphertext: Self.versionPrefix + combined.base64EncodedString())
    }

    public func open(_ sealed: SealedSecret, for binding: Binding) throws(BerthError) -> String {
        guard sealed.ciphertext.hasPrefix(Self.versionPrefix),
            let data = Data(base64Encoded: String(sealed.ciphertext.dropFirst(Self.versionPrefix.count)))
        else {
            throw BerthError(.internalError, "A stored secret of \(binding.value) is not in Berth's sealed format.")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let clear = try AES.GCM.open(box, using: masterKey.key, authenticating: Data(binding.value.utf8))
            return String(decoding: clear, as: UTF8.self)
        } catch {
            throw BerthError(
                .internalError,
                "A stored secret of \(binding.value) does not open with this master key: the key changed, or the secret was copied from another record."
            )
        }
    }
}
