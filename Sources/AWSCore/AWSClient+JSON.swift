import AWSSigV4
import Foundation

extension AWSClient {
    /// Calls an AWS JSON 1.1 operation: the input is the JSON body, the output the JSON answer.
    /// Timestamps travel as epoch seconds, blobs as base64, absent members are left out.
    public func jsonCall<Input: Encodable & Sendable, Output: Decodable>(
        operation: String, input: Input
    ) async throws -> Output {
        guard case .json11(let targetPrefix) = service.wireProtocol else {
            preconditionFailure("\(service.displayName) does not speak AWS JSON 1.1")
        }
        let body = try AWSJSON.encode(input)
        let response = try await send(
            operation: operation,
            headers: [
                .init("Content-Type", "application/x-amz-json-1.1"),
                .init("X-Amz-Target", "\(targetPrefix).\(operation)"),
            ],
            body: body)
        do {
            return try AWSJSON.decode(Output.self, from: response.body)
        } catch {
            throw AWSClientError(
                .invalidResponse,
                "\(service.displayName) \(operation) answered with JSON that Berth cannot read: \(AWSJSON.describe(error))")
        }
    }
}

/// The JSON conventions of AWS JSON 1.1.
public enum AWSJSON {
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: bytes.isEmpty ? Data("{}".utf8) : Data(bytes))
    }

    /// A decoding error as a path and a reason, never the offending value.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the top level" : String(text.drop { $0 == "." })
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) is not a \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)) is missing (expected \(type))"
        case .keyNotFound(let key, let context): return "\(path(context)) has no member '\(key.stringValue)'"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// The answer of an operation that returns nothing.
public struct AWSEmptyResponse: Decodable, Sendable {}

/// An AWS enumeration: the documented values have names, and any other value the service sends
/// is kept as it is, so nothing is lost in a round trip.
public protocol AWSStringEnum: RawRepresentable, Codable, Sendable, Hashable, ExpressibleByStringLiteral,
    CustomStringConvertible
where RawValue == String {
    init(rawValue: String)
}

extension AWSStringEnum {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }
}

extension KeyedDecodingContainer {
    /// A string member that may arrive as a number or a boolean (`"cpu": 256` for `"cpu": "256"`).
    public func decodeLenientStringIfPresent(forKey key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeLenientString(forKey: key)
    }

    public func decodeLenientString(forKey key: Key) throws -> String {
        if let text = try? decode(String.self, forKey: key) { return text }
        if let number = try? decode(Int.self, forKey: key) { return String(number) }
        if let number = try? decode(Double.self, forKey: key) { return String(number) }
        if let flag = try? decode(Bool.self, forKey: key) { return String(flag) }
        return try decode(String.self, forKey: key)
    }
}
