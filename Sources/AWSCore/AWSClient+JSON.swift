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

/// The answer of an operation that returns nothing.
public struct AWSEmptyResponse: Decodable, Sendable {}
