import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Logging in (a password, or a one-time link) and out.
extension WebUI {
    func loginPage(request: Request, error: String?, status: HTTPResponse.Status = .ok) throws -> Response {
        let binding = Self.loginBinding(request)
        let next = request.uri.queryParameters.get("next").map(Self.localPath) ?? "/"
        // A missing template is the build's fault: a 500 that the error middleware logs, not a blank page.
        var response = try render(
            "login", ["csrf": sessions.csrf(for: binding), "next": next, "error": error as Any], title: "Log in",
            visit: nil, status: status)
        response.setCookie(sessions.cookie(WebSessions.loginCookie, binding, maxAge: 3600, sameSite: .strict))
        return response
    }

    func logIn(_ request: Request, _ context: Context) async throws -> Response {
        let form = try await WebForm.read(request, limit: 16 << 10)
        guard let binding = request.cookies[WebSessions.loginCookie]?.value,
            sessions.check(form.fields.first(where: { $0.name == "csrf" })?.value, for: binding)
        else {
            return try loginPage(
                request: request, error: "The login form expired or did not come from this server; try again.",
                status: .forbidden)
        }
        do {
            let (token, _) = try await useCases.logInToBrowser(
                username: form["username"] ?? "", password: form.fields.first { $0.name == "password" }?.value ?? "",
                address: context.clientAddress)
            return Self.redirect(
                Self.localPath(form["next"] ?? "/"),
                cookies: [
                    sessions.cookie(WebSessions.sessionCookie, token, maxAge: Int(BrowserSession.lifetime)),
                    sessions.expired(WebSessions.loginCookie),
                ])
        } catch let error as BerthError {
            return try loginPage(request: request, error: error.message, status: ErrorMiddleware<Context>.status(for: error.code))
        }
    }

    func logOut(_ visit: Visit) async throws -> Response {
        try await useCases.logOut(token: visit.token, by: visit.requester)
        return Self.redirect("/login", cookies: [sessions.expired(WebSessions.sessionCookie)])
    }

    /// A login link's page: a button, not the login itself, so that a mail scanner or a link preview
    /// that opens the link does not use it up.
    func loginLinkPage(_ request: Request, _ context: Context, error: String? = nil, status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        // Who it logs in as: a link someone else sent must not log you in as them unawares.
        let username = try await useCases.loginLinkUsername(context.parameters.get("token") ?? "")
        let binding = Self.loginBinding(request)
        let token = context.parameters.get("token") ?? ""
        var response = try render(
            "login-link",
            ["csrf": sessions.csrf(for: binding), "token": token].merging(
                [("error", error), ("username", username)].compactMap { key, value in value.map { (key, $0) } }
            ) { first, _ in first },
            title: "Log in with a link", visit: nil, status: status)
        response.setCookie(sessions.cookie(WebSessions.loginCookie, binding, maxAge: 3600, sameSite: .strict))
        return response
    }

    /// The value the login forms are bound to: a cookie of their own (kept while it lasts), so that a
    /// form posted from another site has no token for it.
    static func loginBinding(_ request: Request) -> String {
        request.cookies[WebSessions.loginCookie]?.value ?? Base64URL.encode((0..<24).map { _ in UInt8.random(in: .min ... .max) })
    }

    func followLoginLink(_ request: Request, _ context: Context) async throws -> Response {
        let form = try await WebForm.read(request, limit: 16 << 10)
        guard let binding = request.cookies[WebSessions.loginCookie]?.value,
            sessions.check(form.fields.first(where: { $0.name == "csrf" })?.value, for: binding)
        else {
            return try loginPage(
                request: request, error: "The login form expired or did not come from this server; open the link again.",
                status: .forbidden)
        }
        do {
            let (token, _) = try await useCases.logInWithLink(form["token"] ?? "", address: context.clientAddress)
            return Self.redirect(
                "/profile",
                cookies: [
                    sessions.cookie(WebSessions.sessionCookie, token, maxAge: Int(BrowserSession.lifetime)),
                    sessions.expired(WebSessions.loginCookie),
                ])
        } catch let error as BerthError {
            return try loginPage(request: request, error: error.message, status: ErrorMiddleware<Context>.status(for: error.code))
        }
    }

    /// `path` when it is a path of this server, "/" otherwise (never another site): one leading
    /// slash, no scheme, no host, and none of what browsers drop or turn into a slash (control
    /// characters, backslashes).
    static func localPath(_ path: String) -> String {
        guard path.hasPrefix("/"), !path.hasPrefix("//"),
            !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" }),
            !path.lowercased().contains("%5c"), let parsed = URLComponents(string: path), parsed.scheme == nil,
            parsed.host == nil
        else { return "/" }
        return path
    }

}
