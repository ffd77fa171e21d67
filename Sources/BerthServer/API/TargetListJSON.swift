import BerthDomain
import BerthStore
import Foundation

/// Writes the JSON of a `TargetList` answer as the generated Codable types and the runtime's
/// `JSONEncoder` write it with the server's settings (compact, absent optionals omitted, strings
/// escaped alike — `/` as `\/` —, dates by `RFC3339DateTranscoder`), at a fraction of the cost:
/// Codable spent about a fifth of a busy server's time on a cold listing.
///
/// One difference, by design: members come in the document's order. JSONEncoder's order is that
/// of a Swift dictionary, which changes from one process to the next (and from one object to the
/// next), so no client can have relied on it.
///
/// ```swift
/// let body: [UInt8] = try TargetListJSON.encode(listing)  // {"items":[{"id":"tgt-…","name":"web",…}]}
/// ```
///
/// `TargetListJSONTests` compares its output with the Codable encoding on tricky data: the same
/// JSON values, and every string escaped byte for byte as JSONEncoder escapes it.
struct TargetListJSON {
    private(set) var bytes: [UInt8] = []
    private let dates = RFC3339DateTranscoder()

    /// The answer's body.
    static func encode(_ listing: TargetListing) throws -> [UInt8] {
        var writer = TargetListJSON()
        // About 400 bytes per target without health details.
        writer.bytes.reserveCapacity(64 + listing.entries.count * 512)
        writer.raw("{\"items\":[")
        // By index: an enumerated iterator hands out copies, a retain and release of every field.
        for index in listing.entries.indices {
            if index > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            try writer.target(listing.entries[index])
        }
        writer.bytes.append(UInt8(ascii: "]"))
        if let cursor = listing.nextCursor {
            writer.raw(",\"nextCursor\":")
            writer.string(cursor)
        }
        writer.bytes.append(UInt8(ascii: "}"))
        return writer.bytes
    }

    /// One `Target`, with the same names and fallbacks as `Components.Schemas.Target.init(_:)`.
    private mutating func target(_ entry: TargetListing.Entry) throws {
        let target = entry.target
        raw("{\"id\":")
        string(target.id)
        raw(",\"name\":")
        string(target.name)
        raw(",\"slug\":")
        string(target.slug)
        raw(",\"environments\":")
        strings(entry.environmentNames.sorted())
        raw(",\"roles\":")
        strings(target.roles)
        let account: String? =
            switch target.authentication {
            case .account(let id): entry.accountName ?? id
            case .workerCredentials: nil
            }
        if let account {
            raw(",\"account\":")
            string(account)
        }
        raw(account == nil ? ",\"useWorkerCredentials\":true" : ",\"useWorkerCredentials\":false")
        if let assumeRole = target.assumeRole {
            raw(",\"assumeRole\":{\"roleArn\":")
            string(assumeRole.roleARN)
            if let sessionName = assumeRole.sessionName {
                raw(",\"sessionName\":")
                string(sessionName)
            }
            if let sessionDuration = assumeRole.sessionDuration {
                raw(",\"sessionDuration\":")
                raw(String(sessionDuration))
            }
            if let externalID = assumeRole.externalID {
                raw(",\"externalId\":")
                string(externalID)
            }
            bytes.append(UInt8(ascii: "}"))
        }
        raw(",\"region\":")
        string(target.region)
        raw(",\"clusterName\":")
        string(target.clusterName)
        raw(",\"workerPool\":")
        string(entry.workerPoolName ?? target.workerPoolID)
        raw(",\"health\":{\"status\":")
        string(target.health.status.rawValue)
        if let message = target.health.message {
            raw(",\"message\":")
            string(message)
        }
        if let checkedAt = target.health.checkedAt {
            raw(",\"checkedAt\":")
            try date(checkedAt)
        }
        if let taskID = target.health.taskID {
            raw(",\"taskId\":")
            string(taskID)
        }
        raw("},\"createdAt\":")
        try date(target.createdAt)
        raw(",\"updatedAt\":")
        try date(target.updatedAt)
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func date(_ date: Date) throws {
        bytes.append(UInt8(ascii: "\""))
        if RFC3339DateTranscoder.append(date, to: &bytes) {
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes.removeLast()
            string(try dates.encode(date))
        }
    }

    /// A JSON string with JSONEncoder's escapes: `"`, `\` and `/` with a backslash, the control
    /// characters with their short forms (`\b \f \n \r \t`) or `\u00XX`, everything else as is.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/")
                else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case UInt8(ascii: "/"): raw("\\/")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                default:
                    raw("\\u00")
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0x0F)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
