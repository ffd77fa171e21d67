import Foundation

/// Reads the error out of a non-2xx answer, whatever its protocol.
enum AWSErrorDecoder {
    static func decode(_ response: AWSHTTPResponse, protocol wireProtocol: AWSServiceDescriptor.WireProtocol, operation: String)
        -> AWSError
    {
        let requestID = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        let parsed: (code: String, message: String, requestID: String?)?
        switch wireProtocol {
        case .json11:
            parsed = jsonError(response) ?? xmlError(response)
        case .query:
            parsed = xmlError(response) ?? jsonError(response)
        }
        if let parsed {
            return AWSError(
                code: AWSErrorCode(rawValue: parsed.code), message: parsed.message,
                requestID: parsed.requestID ?? requestID, statusCode: response.status, operation: operation)
        }
        let snippet = String(decoding: response.body.prefix(200), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return AWSError(
            code: AWSErrorCode(rawValue: "HTTP\(response.status)"),
            message: snippet.isEmpty ? "The service answered HTTP \(response.status) with no error details." : snippet,
            requestID: requestID, statusCode: response.status, operation: operation)
    }

    /// `{"__type": "com.amazonaws.ecs#ClusterNotFoundException", "message": "…"}`, or the
    /// `x-amzn-ErrorType` header.
    static func jsonError(_ response: AWSHTTPResponse) -> (code: String, message: String, requestID: String?)? {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        let rawType = response.header("x-amzn-ErrorType") ?? (object?["__type"] as? String) ?? (object?["code"] as? String)
        guard let rawType else { return nil }
        let message = (object?["message"] as? String) ?? (object?["Message"] as? String) ?? ""
        return (sanitizeCode(rawType), message, nil)
    }

    /// `<ErrorResponse><Error><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`
    /// and the `<Response><Errors><Error>` variant.
    static func xmlError(_ response: AWSHTTPResponse) -> (code: String, message: String, requestID: String?)? {
        guard let tree = try? XMLTree.parse(response.body), let error = tree.firstDescendant(named: "Error"),
            let code = error.child("Code")?.text, !code.isEmpty
        else { return nil }
        let requestID = tree.firstDescendant(named: "RequestId")?.text ?? tree.firstDescendant(named: "RequestID")?.text
        return (code, error.child("Message")?.text ?? "", requestID)
    }

    /// `aws.protocoltests#FooError:http://…` and `com.amazonaws.ecs#Foo` both mean `Foo`.
    static func sanitizeCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code).trimmingCharacters(in: .whitespaces)
    }
}
