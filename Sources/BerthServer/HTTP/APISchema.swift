import Foundation

/// One JSON Schema of the OpenAPI document, reduced to the keywords the server enforces: type,
/// enum, length, range, pattern, item and property counts, closed objects. `$ref`s are resolved
/// and patterns compiled when the document is read, so a schema is a plain tree, ready to use.
final class APISchema: Sendable {
    let type: String?
    let enumValues: [String]?
    let minLength: Int?
    let maxLength: Int?
    let pattern: String?
    /// `pattern`, compiled once.
    let expression: NSRegularExpression?
    let minimum: Double?
    let maximum: Double?
    let minItems: Int?
    let maxItems: Int?
    let minProperties: Int?
    let maxProperties: Int?
    let items: APISchema?
    let properties: [String: APISchema]
    let required: [String]
    /// The schema of the values of a map (`additionalProperties: {…}`).
    let additionalProperties: APISchema?
    /// `additionalProperties: false`: a member not in `properties` is refused.
    let isClosed: Bool

    init(_ object: [String: Any], resolve: (String) throws -> APISchema) throws {
        if let reference = object["$ref"] as? String {
            let resolved = try resolve(reference)
            self.type = resolved.type
            self.enumValues = resolved.enumValues
            self.minLength = resolved.minLength
            self.maxLength = resolved.maxLength
            self.pattern = resolved.pattern
            self.expression = resolved.expression
            self.minimum = resolved.minimum
            self.maximum = resolved.maximum
            self.minItems = resolved.minItems
            self.maxItems = resolved.maxItems
            self.minProperties = resolved.minProperties
            self.maxProperties = resolved.maxProperties
            self.items = resolved.items
            self.properties = resolved.properties
            self.required = resolved.required
            self.additionalProperties = resolved.additionalProperties
            self.isClosed = resolved.isClosed
            return
        }
        func number(_ key: String) -> Double? { (object[key] as? Int).map(Double.init) ?? object[key] as? Double }
        type = object["type"] as? String
        enumValues = (object["enum"] as? [Any])?.map { "\($0)" }
        minLength = object["minLength"] as? Int
        maxLength = object["maxLength"] as? Int
        pattern = object["pattern"] as? String
        do {
            expression = try pattern.map { try NSRegularExpression(pattern: $0) }
        } catch {
            // A pattern the server cannot compile would let every value through: refuse the document.
            throw APIDescription.DocumentError(message: "the pattern \(pattern ?? "") is not a regular expression")
        }
        minimum = number("minimum")
        maximum = number("maximum")
        minItems = object["minItems"] as? Int
        maxItems = object["maxItems"] as? Int
        minProperties = object["minProperties"] as? Int
        maxProperties = object["maxProperties"] as? Int
        items = try (object["items"] as? [String: Any]).map { try APISchema($0, resolve: resolve) }
        properties = try (object["properties"] as? [String: Any] ?? [:]).reduce(into: [:]) { result, entry in
            if let schema = entry.value as? [String: Any] { result[entry.key] = try APISchema(schema, resolve: resolve) }
        }
        required = object["required"] as? [String] ?? []
        additionalProperties = try (object["additionalProperties"] as? [String: Any]).map {
            try APISchema($0, resolve: resolve)
        }
        isClosed = object["additionalProperties"] as? Bool == false
    }

    /// Whether `{}` is a valid value: an object none of whose members is required.
    var acceptsEmptyObject: Bool { type == "object" && required.isEmpty && (minProperties ?? 0) == 0 }
}

/// A JSON value as the request sent it, told apart exactly (a boolean is not a number).
enum RequestJSON: Decodable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([RequestJSON])
    case object([String: RequestJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([RequestJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: RequestJSON].self))
        }
    }
}
