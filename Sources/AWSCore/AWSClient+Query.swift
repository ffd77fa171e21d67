import AWSSigV4
import Foundation

extension AWSClient {
    /// Calls an AWS Query operation and returns the `<ActionResult>` element of the answer.
    ///
    /// - Parameters:
    ///   - parameters: flattened members (`Tags.member.1.Key`), in any order.
    ///   - signed: `false` for operations that must go unsigned, like `AssumeRoleWithWebIdentity`.
    public func queryCall(action: String, parameters: [SigningRequest.QueryItem], signed: Bool = true) async throws -> XMLTree {
        let tree = try await queryDocument(action: action, parameters: parameters, signed: signed)
        if let result = tree.child("\(action)Result") { return result }
        // Operations without output answer with just `<ActionResponse><ResponseMetadata>`.
        guard tree.name == "\(action)Response" else {
            throw AWSClientError(
                .invalidResponse, "\(service.displayName) \(action) answered with <\(tree.name)> instead of <\(action)Response>.")
        }
        return XMLTree(name: "\(action)Result")
    }

    /// Calls a Query-style operation and returns the whole answer document (EC2's dialect has no
    /// `<ActionResult>` wrapper).
    public func queryDocument(action: String, parameters: [SigningRequest.QueryItem], signed: Bool = true) async throws -> XMLTree
    {
        guard case .query(let version) = service.wireProtocol else {
            preconditionFailure("\(service.displayName) does not speak the AWS Query protocol")
        }
        let form = [SigningRequest.QueryItem("Action", action), .init("Version", version)] + parameters
        let response = try await send(
            operation: action,
            headers: [.init("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(SigV4Signer.encodedQuery(form).utf8),
            signed: signed)
        do {
            return try XMLTree.parse(response.body)
        } catch {
            throw AWSClientError(.invalidResponse, "\(service.displayName) \(action) answered with \(error.message)")
        }
    }
}
