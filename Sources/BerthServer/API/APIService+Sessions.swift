import BerthAPI
import BerthDomain
import BerthOIDC
import BerthUseCases
import Foundation

/// Passwords and logging in (``UseCases/logIn(username:password:address:)``): a session is an API
/// key of the user that expires in 12 hours.
extension APIService {
    func setUserPassword(_ input: Operations.SetUserPassword.Input) async throws -> Operations.SetUserPassword.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the password as JSON.") }
        try await useCases.setPassword(
            of: input.path.user, to: body.password, currentPassword: body.currentPassword, by: try requester())
        return .noContent(.init())
    }

    func createSession(_ input: Operations.CreateSession.Input) async throws -> Operations.CreateSession.Output {
        guard case .json(let body) = input.body else { throw BerthError(.badRequest, "Send the username and password as JSON.") }
        let (key, stored) = try await useCases.logIn(
            username: body.username, password: body.password, address: RequestCaller.address)
        return .created(.init(body: .json(.init(apiKey: .init(stored), key: key))))
    }

    func createLoginLink(_ input: Operations.CreateLoginLink.Input) async throws -> Operations.CreateLoginLink.Output {
        let (token, user, expiresAt) = try await useCases.createLoginLink(for: input.path.user, by: try requester())
        return .created(
            .init(
                body: .json(
                    .init(url: Self.loginLinkURL(issuer.configuration.issuer, token), user: user.username, expiresAt: expiresAt)))
        )
    }

    /// The page of a login link, on the server's public address.
    static func loginLinkURL(_ base: String, _ token: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/login/link/" + token
    }
}
