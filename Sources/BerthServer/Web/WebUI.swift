import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The web UI: server-rendered pages (swift-mustache templates, one stylesheet, one small script
/// of our own) under `/`, beside the API under `/api`. Every page works without the script; the
/// script adds live updates. Pages call the same use cases as the API, as the logged-in user, so
/// they show only what that user may see and offer only what they may do.
struct WebUI: Sendable {
    typealias Context = BerthRequestContext
    let useCases: UseCases
    let templates: MustacheLibrary
    let sessions: WebSessions
    let assets: [String: (type: String, bytes: ByteBuffer)]

    /// What every page answer carries: no script or style but our own, no framing, no sniffing.
    static let securityHeaders: [(HTTPField.Name, String)] = [
        (
            .contentSecurityPolicy,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        (.xContentTypeOptions, "nosniff"), (.referrerPolicy, "same-origin"), (.xFrameOptions, "DENY"),
    ]

    /// Loads the templates and assets shipped with this build.
    static func load(useCases: UseCases, secrets: SecretBox, secure: Bool) async throws -> WebUI {
        guard let templates = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let assets = Bundle.module.url(forResource: "Assets", withExtension: nil)
        else { throw BerthError(.internalError, "The web UI's templates are missing from this build.") }
        var files: [String: (type: String, bytes: ByteBuffer)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: assets.path) {
            let type =
                switch (name as NSString).pathExtension {
                case "css": "text/css; charset=utf-8"
                case "js": "text/javascript; charset=utf-8"
                case "svg": "image/svg+xml"
                default: "application/octet-stream"
                }
            files[name] = (type, ByteBuffer(bytes: try Data(contentsOf: assets.appendingPathComponent(name))))
        }
        return WebUI(
            useCases: useCases, templates: try loadTemplates(from: templates),
            sessions: WebSessions(secrets: secrets, secure: secure), assets: files)
    }

    /// Every `*.mustache` file of `directory`, named without its extension, each parsed to escape
    /// its values with `HTMLText`.
    static func loadTemplates(from directory: URL) throws -> MustacheLibrary {
        MustacheContentTypes.register(HTMLText(), named: HTMLText.name)
        var library = MustacheLibrary()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            do {
                library.register(
                    try MustacheTemplate(string: "{{% CONTENT_TYPE: \(HTMLText.name) }}" + text),
                    named: String(name.dropLast(".mustache".count)))
            } catch {
                throw BerthError(.internalError, "The page template \(name) does not parse: \(error)")
            }
        }
        return library
    }

    // MARK: - A visit: the logged-in user's request

    /// A request of a logged-in user: who, and the CSRF token their forms carry.
    struct Visit: Sendable {
        let requester: Requester
        let token: String
        let csrf: String
        let request: Request
        let context: Context

        func parameter(_ name: String) throws -> String {
            guard let value = context.parameters.get(name) else { throw BerthError(.notFound, "There is no such page.") }
            return value.removingPercentEncoding ?? value
        }

        func query(_ name: String) -> String? {
            request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// A page for logged-in users: others are sent to the login page, and back here after it.
    func page(_ body: @escaping @Sendable (Visit) async throws -> Response)
        -> @Sendable (Request, Context) async throws
        -> Response
    {
        { request, context in
            guard let token = request.cookies[WebSessions.sessionCookie]?.value,
                let requester = try await useCases.browserRequester(
                    token: token, address: context.clientAddress, active: request.headers[.berthRefresh] == nil)
            else {
                let next = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
                return Self.redirect("/login?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")")
            }
            let visit = Visit(
                requester: requester, token: token, csrf: sessions.csrf(for: token), request: request, context: context)
            do {
                return try await body(visit)
            } catch let error as BerthError {
                return try render(
                    "error",
                    [
                        "message": error.message, "hasDetails": !error.details.isEmpty,
                        "details": error.details.map { ["field": $0.field, "message": $0.message] },
                    ],
                    title: Self.title(for: error.code), visit: visit, status: ErrorMiddleware<Context>.status(for: error.code))
            }
        }
    }

    /// A form post of a logged-in user: refused (403) without the CSRF token of their session.
    func action(_ body: @escaping @Sendable (Visit, WebForm) async throws -> Response)
        -> @Sendable (Request, Context)
        async throws -> Response
    {
        page { visit in
            let form = try await WebForm.read(visit.request)
            guard sessions.check(form.fields.first(where: { $0.name == "csrf" })?.value, for: visit.token) else {
                throw BerthError(
                    .forbidden,
                    "This form did not come from a page of this session (its CSRF token is missing or not this session's). Go back, reload the page and send it again."
                )
            }
            return try await body(visit, form)
        }
    }

    // MARK: - Answers

    /// `template` rendered with `values` inside the page layout.
    func render(
        _ template: String, _ values: [String: Any], title: String, visit: Visit?, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        guard let content = templates.render(Self.present(values), withTemplate: template) else {
            throw BerthError(.internalError, "The page template '\(template)' is missing.")
        }
        var layout: [String: Any] = ["title": title, "content": content]
        if let visit {
            let caller = visit.requester.caller
            layout["user"] = ["username": caller.user.username, "displayName": caller.user.displayName]
            layout["csrf"] = visit.csrf
            layout["mayAudit"] = caller.may(.auditView, at: .server)
            layout["mayManageUsers"] = caller.may(.userManage, at: .server)
            layout["mayManageTeams"] = caller.may(.teamManage, at: .server)
        }
        guard let html = templates.render(layout, withTemplate: "layout") else {
            throw BerthError(.internalError, "The page layout is missing.")
        }
        return Self.html(html, status: status)
    }

    /// `values` without its absent optionals, at any depth: a template's `{{#error}}` must see
    /// nothing where Swift has nil (an `Optional.none` inside `Any` would render as "nil").
    static func present(_ values: [String: Any]) -> [String: Any] {
        values.compactMapValues(present)
    }

    static func present(_ value: Any) -> Any? {
        switch value {
        case let optional as any OptionalValue:
            guard let wrapped = optional.wrapped else { return nil }
            return present(wrapped)
        case is String, is Int, is Bool: return value
        case let dictionary as [String: Any]: return present(dictionary)
        case let array as [[String: Any]]: return array.map(present)
        default: return value
        }
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        for (name, value) in securityHeaders { headers[name] = value }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 See Other: where a form post sends the browser next.
    static func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    static func title(for code: BerthError.Code) -> String {
        switch code {
        case .forbidden: "Not allowed"
        case .notFound: "Not found"
        case .unauthorized: "Not logged in"
        case .conflict: "Conflict"
        case .tooManyRequests: "Too many attempts"
        default: "That did not work"
        }
    }

    /// A path segment, escaped.
    static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? value
    }

    /// A time as the pages show it: `2026-11-30 08:34:22` (UTC, as the log's lines). Written from
    /// the calendar fields directly: Foundation's ISO 8601 formatting cost the dashboard a twentieth
    /// of its time.
    static func time(_ date: Date?) -> String {
        guard let date else { return "" }
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        guard gmtime_r(&seconds, &fields) != nil else { return "" }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(fields.tm_year + 1900)-\(two(fields.tm_mon + 1))-\(two(fields.tm_mday)) "
            + "\(two(fields.tm_hour)):\(two(fields.tm_min)):\(two(fields.tm_sec))"
    }
}

extension HTTPField.Name {
    /// Sent by the page's script when it refreshes part of the page by itself.
    static let berthRefresh = Self("X-Berth-Refresh")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}

/// An optional seen through `Any`: what `WebUI.present` unwraps without reflection.
protocol OptionalValue {
    var wrapped: Any? { get }
}

extension Optional: OptionalValue {
    var wrapped: Any? { self.map { $0 as Any } }
}
