import AWSCore
import AWSSigV4
import Foundation

/// The JSON document that the container and instance metadata endpoints answer with.
enum CredentialDocument {
    static func parse(_ bytes: [UInt8], from origin: String) throws -> Credentials {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw CredentialSourceError("\(origin) answered with something that is not a JSON object.")
        }
        if let code = object["Code"] as? String, code != "Success" {
            let message = object["Message"] as? String ?? ""
            throw CredentialSourceError(
                "\(origin) answered with the code \(code)\(message.isEmpty ? "" : ": \(message)").",
                awsErrorCode: AWSErrorCode(rawValue: code))
        }
        guard let accessKeyID = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String else {
            throw CredentialSourceError("\(origin) answered without AccessKeyId and SecretAccessKey.")
        }
        var expiration: Date?
        if let text = object["Expiration"] as? String {
            guard let date = AWSTimestamp.parseISO8601(text) else {
                throw CredentialSourceError("\(origin) answered with an unreadable Expiration '\(text)'.")
            }
            expiration = date
        }
        return Credentials(
            accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: object["Token"] as? String, expiration: expiration)
    }
}
