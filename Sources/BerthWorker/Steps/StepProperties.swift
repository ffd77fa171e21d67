import AWSCore
import BerthDomain
import Foundation

/// Reads a step's properties (after `#{}` substitution) with errors that name the step and the
/// property: `step 'Deploy web': desiredCount must be a whole number (got 'two')`. Numbers may be
/// written as strings, so that they can come from variables.
public struct StepProperties: Sendable {
    let step: String
    let json: JSONValue

    public init(step: String, json: JSONValue) {
        self.step = step
        self.json = json
    }

    /// A failure of the property `key` (also named in the error's details).
    public func failure(_ key: String, _ message: String) -> BerthError {
        BerthError(
            .validationFailed, "Step '\(step)': \(key) \(message).", details: [.init(field: key, message: "\(key) \(message)")])
    }

    func has(_ key: String) -> Bool { json[key] != nil && json[key] != .null }

    public func string(_ key: String) throws(BerthError) -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case .number(let value)?: return value == value.rounded() ? String(Int(value)) : String(value)
        case .bool(let value)?: return String(value)
        default: throw failure(key, "must be text")
        }
    }

    func requiredString(_ key: String) throws(BerthError) -> String {
        guard let value = try string(key), !value.isEmpty else { throw failure(key, "is required") }
        return value
    }

    public func int(_ key: String, in range: ClosedRange<Int>? = nil) throws(BerthError) -> Int? {
        let value: Int?
        switch json[key] {
        case nil, .null?: return nil
        case .number(let number)?: value = number == number.rounded() ? Int(exactly: number) : nil
        case .string(let text)?: value = Int(text.trimmingCharacters(in: .whitespaces))
        default: value = nil
        }
        guard let value else { throw failure(key, "must be a whole number (got \(json[key]?.rendered() ?? "nothing"))") }
        if let range, !range.contains(value) {
            throw failure(key, "must be \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
        return value
    }

    func bool(_ key: String) throws(BerthError) -> Bool? {
        switch json[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case .string(let text)?:
            switch text.lowercased() {
            case "true", "yes", "1": return true
            case "false", "no", "0": return false
            default: break
            }
        default: break
        }
        throw failure(key, "must be true or false (got \(json[key]?.rendered() ?? "nothing"))")
    }

    /// A member decoded as an AWS shape (ECS's own field names, as the AWS CLI's JSON input uses).
    /// A member the shape does not have is refused, as the AWS CLI refuses it, not dropped.
    func decode<Value: Decodable>(_ key: String, as type: Value.Type) throws(BerthError) -> Value? {
        guard let value = json[key], value != .null else { return nil }
        do {
            let decoded = try JSONDecoder().decode(Value.self, from: Data(value.rendered().utf8))
            if let unknown = UnknownMembers.first(in: value, decodedAs: decoded) {
                throw failure(key, unknown.description)
            }
            return decoded
        } catch let error as BerthError {
            throw error
        } catch let error as DecodingError {
            throw failure(key, "is not valid: \(Self.describe(error))")
        } catch {
            throw failure(key, "is not valid: \(error)")
        }
    }

    /// ECS and CloudWatch Logs take at most 50 tags per resource.
    static let maximumTagCount = 50

    /// `{"team": "web"}` or `[{"key": "team", "value": "web"}]`, checked as AWS checks tags: keys of
    /// 1–128 characters outside the reserved `aws:` prefix, values of at most 256, and room for
    /// Berth's own four within the 50 a resource takes.
    func tags(_ key: String = "tags") throws(BerthError) -> [String: String] {
        let tags = try tagMembers(key)
        for (name, value) in tags.sorted(by: { $0.key < $1.key }) {
            if name.lowercased().hasPrefix("aws:") {
                throw failure(key, "may not use the key '\(name)': AWS reserves the prefix aws:")
            }
            if name.isEmpty || name.count > 128 {
                throw failure(key, "has a key of \(name.count) characters; keys take 1 to 128")
            }
            if value.count > 256 {
                throw failure(key, "has a value of \(value.count) characters for '\(name)'; values take at most 256")
            }
        }
        let room = Self.maximumTagCount - StepJob.defaultTagCount
        if tags.count > room {
            throw failure(
                key,
                "has \(tags.count) tags; AWS takes \(Self.maximumTagCount) per resource and Berth adds \(StepJob.defaultTagCount), so at most \(room)"
            )
        }
        return tags
    }

    func tagMembers(_ key: String) throws(BerthError) -> [String: String] {
        switch json[key] {
        case nil, .null?: return [:]
        case .object(let members)?:
            var tags: [String: String] = [:]
            for (name, value) in members {
                guard case .string(let text) = value else { throw failure("\(key).\(name)", "must be text") }
                tags[name] = text
            }
            return tags
        case .array?:
            struct Tag: Decodable {
                var key: String
                var value: String
            }
            return Dictionary(
                (try decode(key, as: [Tag].self) ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        default:
            throw failure(key, "must be an object of tag names and values")
        }
    }

    /// `wait` (true by default) and `timeoutSeconds` (1800 by default; 0 waits without a limit).
    /// `wait` may also be `{untilStage: STAGE}` on the service steps (see
    /// ``DeploymentStrategySettings``): the step waits, and returns at that stage.
    func waitOption() throws(BerthError) -> WaitOption {
        if try waits() == false { return .dontWait }
        let seconds = try int("timeoutSeconds", in: 0...86_400) ?? 1800
        return seconds == 0 ? .wait : .waitWithTimeout(.seconds(seconds))
    }

    /// `wait` alone: true (the default), false, or `{untilStage: STAGE}` (which waits).
    func waits() throws(BerthError) -> Bool {
        if case .object(let members)? = json["wait"] {
            guard members.map(\.0) == ["untilStage"] else {
                throw failure("wait", "must be true, false or {untilStage: STAGE}")
            }
            return true
        }
        return try bool("wait") ?? true
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "" : " at \(path.hasPrefix(".") ? String(path.dropFirst()) : path)"
        }
        switch error {
        case .keyNotFound(let key, let context): return "'\(key.stringValue)' is missing\(path(context))"
        case .typeMismatch(_, let context): return "\(context.debugDescription)\(path(context))"
        case .valueNotFound(_, let context): return "a value is missing\(path(context))"
        case .dataCorrupted(let context): return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
