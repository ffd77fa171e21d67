import BerthDev
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A local STS that speaks the Query protocol, records every call and answers with credentials
/// that expire when the test says. Used where moto cannot show what was sent (the web identity
/// token of each call) or where calls must be counted exactly.
public final class FakeSTS: Sendable {
    public struct Call: Sendable, Equatable {
        public var action: String
        public var parameters: [String: String]
        public var signed: Bool
    }

    private let state = Mutex<(calls: [Call], failures: [String], expiration: Date)>(
        ([], [], Date(timeIntervalSince1970: 1_795_003_600)))
    public let account = "123456789012"

    public init(expiration: Date = Date(timeIntervalSince1970: 1_795_003_600)) {
        state.withLock { $0.expiration = expiration }
    }

    public var calls: [Call] { state.withLock { $0.calls } }

    /// The expiration of credentials handed out from now on.
    public func setExpiration(_ date: Date) { state.withLock { $0.expiration = date } }

    /// Makes the next calls fail with these AWS error codes, one per call.
    public func failNext(_ codes: String...) { state.withLock { $0.failures += codes } }

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/") { request, _ -> Response in
            let parameters = try await request.formParameters()
            let action = parameters["Action"] ?? ""
            let signed = request.headers[.authorization] != nil
            let (failure, expiration, number) = self.state.withLock { state -> (String?, Date, Int) in
                state.calls.append(Call(action: action, parameters: parameters, signed: signed))
                return (state.failures.isEmpty ? nil : state.failures.removeFirst(), state.expiration, state.calls.count)
            }
            if let failure {
                return .text(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>\(failure)</Code><Message>Injected failure</Message></Error><RequestId>req-\(number)</RequestId></ErrorResponse>",
                    status: failure.contains("Throttl") ? .badRequest : .forbidden, contentType: "text/xml")
            }
            return .text(self.answer(action, parameters, expiration: expiration, number: number), contentType: "text/xml")
        }
        return router
    }

    private func answer(_ action: String, _ parameters: [String: String], expiration: Date, number: Int) -> String {
        let roleARN = parameters["RoleArn"] ?? ""
        let roleName = roleARN.split(separator: "/").last.map(String.init) ?? "role"
        let session = parameters["RoleSessionName"] ?? ""
        let credentials = """
            <Credentials><AccessKeyId>ASIAFAKESTS\(number)</AccessKeyId><SecretAccessKey>fake-secret-\(number)</SecretAccessKey>\
            <SessionToken>fake-token-\(number)</SessionToken><Expiration>\(expiration.formatted(.iso8601))</Expiration></Credentials>\
            <AssumedRoleUser><Arn>arn:aws:sts::\(account):assumed-role/\(roleName)/\(session)</Arn><AssumedRoleId>AROAFAKE:\(session)</AssumedRoleId></AssumedRoleUser>
            """
        let body: String
        switch action {
        case "GetCallerIdentity":
            body = "<Arn>arn:aws:iam::\(account):user/fake</Arn><UserId>AIDAFAKE</UserId><Account>\(account)</Account>"
        case "AssumeRoleWithWebIdentity":
            body =
                credentials
                + "<SubjectFromWebIdentityToken>system:serviceaccount:berth:worker</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>"
        default:
            body = credentials
        }
        return
            "<\(action)Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><\(action)Result>\(body)</\(action)Result><ResponseMetadata><RequestId>req-\(number)</RequestId></ResponseMetadata></\(action)Response>"
    }
}
