import BerthAPI
import Foundation
import HTTPTypes
import Yams

/// The operations of Berth's OpenAPI document with the schemas of their parameters and bodies,
/// read once at start, for `APIValidationMiddleware`.
struct APIDescription: Sendable {
    /// One operation: its method, its path template, and what its inputs must be.
    struct Operation: Sendable {
        var operationID: String
        var method: HTTPRequest.Method
        /// The path below the server URL, split on `/`: literals and `{parameter}`s.
        var segments: [String]
        var pathParameters: [(name: String, schema: APISchema)]
        var queryParameters: [(name: String, schema: APISchema)]
        var body: APISchema?

        func matches(_ method: HTTPRequest.Method, _ parts: [Substring]) -> Bool {
            method == self.method && parts.count == segments.count
                && zip(segments, parts).allSatisfy { segment, part in Self.isParameter(segment) || segment == part }
        }

        static func isParameter(_ segment: String) -> Bool { segment.hasPrefix("{") && segment.hasSuffix("}") }

        /// The values of the path's parameters in a request's path, decoded.
        func pathValues(_ parts: [Substring]) -> [(name: String, schema: APISchema, value: String)] {
            zip(segments, parts).compactMap { segment, part in
                guard Self.isParameter(segment) else { return nil }
                let name = String(segment.dropFirst().dropLast())
                guard let schema = pathParameters.first(where: { $0.name == name })?.schema else { return nil }
                return (name, schema, String(part).removingPercentEncoding ?? String(part))
            }
        }
    }

    let operations: [Operation]

    static func load() throws -> APIDescription {
        try APIDescription(yaml: String(decoding: BerthAPIDocument.yaml(), as: UTF8.self))
    }

    init(yaml: String) throws {
        guard let document = try Yams.load(yaml: yaml) as? [String: Any],
            let paths = document["paths"] as? [String: Any]
        else { throw DocumentError(message: "the OpenAPI document has no paths") }
        let components = document["components"] as? [String: Any] ?? [:]
        var cache: [String: APISchema] = [:]
        func component(_ reference: String) throws -> [String: Any] {
            let parts = reference.split(separator: "/").map(String.init)
            guard parts.count == 4, parts[0] == "#", parts[1] == "components",
                let section = components[parts[2]] as? [String: Any], let object = section[parts[3]] as? [String: Any]
            else { throw DocumentError(message: "the reference \(reference) is not in the document") }
            return object
        }
        func resolve(_ reference: String) throws -> APISchema {
            if let cached = cache[reference] { return cached }
            let schema = try APISchema(try component(reference), resolve: resolve)
            cache[reference] = schema
            return schema
        }
        func parameters(_ list: Any?) throws -> [(name: String, location: String, schema: APISchema)] {
            try (list as? [[String: Any]] ?? []).map { entry in
                let parameter = try (entry["$ref"] as? String).map(component) ?? entry
                guard let name = parameter["name"] as? String, let location = parameter["in"] as? String else {
                    throw DocumentError(message: "a parameter has no name or location")
                }
                let schema = try APISchema(parameter["schema"] as? [String: Any] ?? [:], resolve: resolve)
                return (name, location, schema)
            }
        }
        var operations: [Operation] = []
        for (path, value) in paths {
            guard let item = value as? [String: Any] else { continue }
            let shared = try parameters(item["parameters"])
            for (method, value) in item {
                guard let httpMethod = HTTPRequest.Method(method.uppercased()), let operation = value as? [String: Any]
                else { continue }
                let all = shared + (try parameters(operation["parameters"]))
                var body: APISchema?
                if let requestBody = operation["requestBody"] as? [String: Any],
                    let content = requestBody["content"] as? [String: Any],
                    let json = content["application/json"] as? [String: Any],
                    let schema = json["schema"] as? [String: Any]
                {
                    body = try APISchema(schema, resolve: resolve)
                }
                operations.append(
                    Operation(
                        operationID: operation["operationId"] as? String ?? "",
                        method: httpMethod,
                        segments: path.split(separator: "/").map(String.init),
                        pathParameters: all.filter { $0.location == "path" }.map { ($0.name, $0.schema) },
                        queryParameters: all.filter { $0.location == "query" }.map { ($0.name, $0.schema) },
                        body: body))
            }
        }
        // Literal segments win over parameters, as the router matches them.
        self.operations = operations.sorted {
            $0.segments.map { Operation.isParameter($0) ? 1 : 0 }
                .lexicographicallyPrecedes($1.segments.map { Operation.isParameter($0) ? 1 : 0 })
        }
    }

    /// The operation a request is for, given its path below the server URL.
    func operation(_ method: HTTPRequest.Method, path: Substring) -> Operation? {
        let parts = path.split(separator: "/")
        return operations.first { $0.matches(method, parts) }
    }

    /// The server URL the document's paths are relative to.
    static let prefix = "/api"

    /// The operation of a request to the API, with its path's parts below ``prefix``; nil for a
    /// path outside the document (the document itself, an unknown route).
    func operation(_ method: HTTPRequest.Method, requestPath path: String) -> (operation: Operation, parts: [Substring])? {
        guard path.hasPrefix(Self.prefix + "/") else { return nil }
        let below = path.dropFirst(Self.prefix.count)
        return operation(method, path: below).map { ($0, below.split(separator: "/")) }
    }

    struct DocumentError: Error, CustomStringConvertible {
        var message: String
        var description: String { "The API description cannot be read: \(message)." }
    }
}
