import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Mustache
import NIOCore
import SQLKit
import Testing

@testable import BerthServer

/// The web UI tried as an attacker would, over HTTP: no page without a session, no form without
/// its CSRF token, no script in a name, no change through the API with a cookie alone, no session
/// past its idle or absolute end or its logout.
@Suite("Web UI: sessions, CSRF, escaping")
struct WebUITests {
    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String

        func cookie(_ name: String) -> String? {
            headers[values: .setCookie].first { $0.hasPrefix("\(name)=") }
        }

        /// The value of the first hidden `csrf` field.
        var csrf: String? {
            text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.output.1) }
        }
    }

    static func get(_ server: TestServer, _ path: String, cookies: String? = nil) async throws -> Page {
        var headers: HTTPFields = [:]
        if let cookies { headers[.cookie] = cookies }
        return try await server.client.execute(uri: path, method: .get, headers: headers, body: nil) {
            Page(status: $0.status, headers: $0.headers, text: String(buffer: $0.body))
        }
    }

    static func post(_ server: TestServer, _ path: String, _ form: [String: String], cookies: String?) async throws -> Page {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookies { headers[.cookie] = cookies }
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
        return try await server.client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) {
            Page(status: $0.status, headers: $0.headers, text: String(buffer: $0.body))
        }
    }

    static let password = "correct horse battery staple"

    /// Logs `username` in through the login form. - Returns: the session cookie (`name=value`).
    static func logIn(_ server: TestServer, _ username: String = "administrator") async throws -> String {
        let form = try await get(server, "/login")
        let binding = try #require(form.cookie(WebSessions.loginCookie)?.split(separator: ";").first.map(String.init))
        let answer = try await post(
            server, "/login", ["csrf": try #require(form.csrf), "username": username, "password": password, "next": "/tasks"],
            cookies: binding)
        #expect(answer.status == .seeOther && answer.headers[.location] == "/tasks", "\(answer.status) \(answer.text)")
        let cookie = try #require(answer.cookie(WebSessions.sessionCookie), "\(answer.headers)")
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "\(cookie)")
        #expect(!cookie.contains("Secure"), "plain HTTP: no Secure attribute (a browser would drop the cookie)")
        return try #require(cookie.split(separator: ";").first.map(String.init))
    }

    static func withAdministrator(_ body: @Sendable (TestServer, String) async throws -> Void) async throws {
        try await TestServer.with { server in
            _ = try await server.request(.put, "/api/users/administrator/password", json: ["password": password])
            try await body(server, try await logIn(server))
        }
    }

    @Test("Without a session every page goes to the login page, which comes back to it; a wrong password stays there")
    func loginRequired() async throws {
        try await TestServer.with { server in
            for path in ["/", "/spaces/default", "/tasks", "/audit", "/api-keys", "/spaces/default/infrastructure"] {
                let page = try await Self.get(server, path)
                #expect(page.status == .seeOther, "\(path): \(page.status)")
                #expect(page.headers[.location]?.hasPrefix("/login?next=") == true, "\(path): \(page.headers)")
            }
            _ = try await server.request(.put, "/api/users/administrator/password", json: ["password": Self.password])
            let form = try await Self.get(server, "/login")
            let binding = form.cookie(WebSessions.loginCookie)?.split(separator: ";").first.map(String.init)
            let wrong = try await Self.post(
                server, "/login", ["csrf": form.csrf ?? "", "username": "administrator", "password": "not it"],
                cookies: binding)
            #expect(wrong.status == .unauthorized && wrong.cookie(WebSessions.sessionCookie) == nil)
            #expect(wrong.text.contains("The username or password is wrong"))
            // The login form without its token (a login forced from another site) is refused.
            let forged = try await Self.post(
                server, "/login", ["username": "administrator", "password": Self.password], cookies: binding)
            #expect(forged.status == .forbidden && forged.cookie(WebSessions.sessionCookie) == nil)
            // Somewhere else after login: never another site.
            #expect(WebUI.localPath("https://evil.example/") == "/" && WebUI.localPath("//evil.example") == "/")
            // What browsers drop (tabs, newlines) or read as a slash (backslashes) does not make another site.
            for sneaky in ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/%5Cevil.example", "/%5c/evil"] {
                #expect(WebUI.localPath(sneaky) == "/", "\(sneaky.debugDescription)")
            }
            let tabbed = try await Self.get(server, "/login?next=/%09/evil.example")
            #expect(tabbed.text.contains("name=\"next\" value=\"/\""), "the login form carries '/' instead")
            #expect(WebUI.localPath("/tasks?state=failed") == "/tasks?state=failed")
            // A failed request's log line never carries a login link's token.
            #expect(ErrorMiddleware<BerthRequestContext>.loggablePath("/login/link/berthl_secret") == "/login/link/…")
            #expect(ErrorMiddleware<BerthRequestContext>.loggablePath("/api/tasks/x") == "/api/tasks/x")
        }
    }

    @Test("Every page has a CSP without inline script, and no inline script; a name with a script tag is text")
    func escapingAndHeaders() async throws {
        try await Self.withAdministrator { server, session in
            let evil = "<script>alert(1)</script>"
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": evil])
            _ = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: ["description": "\"><img src=x onerror=alert(2)>", "steps": [[String: Any]]()])
            for path in [
                "/spaces/default", "/spaces/default/projects/web", "/spaces/default/infrastructure", "/tasks", "/audit",
                "/api-keys",
            ] {
                let page = try await Self.get(server, path, cookies: session)
                #expect(page.status == .ok, "\(path): \(page.status) \(page.text.prefix(300))")
                let policy = page.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(path): \(policy)")
                #expect(page.headers[.xFrameOptions] == "DENY")
                #expect(!page.text.contains(evil) && !page.text.contains("<img src=x"), "\(path) carries the raw markup")
                // The one script is our file: no inline script element, no handler attribute.
                let scripts = page.text.matches(of: /<script[^>]*>/).map { String($0.output) }
                #expect(scripts == ["<script src=\"/assets/berth.js\" defer>"], "\(path): \(scripts)")
            }
            let dashboard = try await Self.get(server, "/spaces/default", cookies: session)
            #expect(dashboard.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is shown, escaped")
        }
    }

    @Test("A form post without this session's CSRF token is refused and changes nothing; with it, it goes through")
    func csrf() async throws {
        try await Self.withAdministrator { server, session in
            let page = try await Self.get(server, "/spaces/default/infrastructure", cookies: session)
            let token = try #require(page.csrf)
            let missing = try await Self.post(server, "/spaces/default/environments", ["name": "Forged"], cookies: session)
            #expect(missing.status == .forbidden, "\(missing.status)")
            // Another session's token does not fit this one.
            let other = try await Self.logIn(server)
            let otherToken = try #require(try await Self.get(server, "/tasks", cookies: other).csrf)
            #expect(otherToken != token)
            let foreign = try await Self.post(
                server, "/spaces/default/environments", ["name": "Forged", "csrf": otherToken], cookies: session)
            #expect(foreign.status == .forbidden)
            #expect(try await server.request(.get, "/api/spaces/default/environments").items.isEmpty)
            let made = try await Self.post(
                server, "/spaces/default/environments", ["name": "Staging", "csrf": token], cookies: session)
            #expect(made.status == .seeOther, "\(made.status) \(made.text)")
            #expect(try await server.request(.get, "/api/spaces/default/environments").items.count == 1)
        }
    }

    @Test("The session cookie reads the API but cannot change anything through it")
    func cookieOnlyReadsTheAPI() async throws {
        try await Self.withAdministrator { server, session in
            let read = try await server.client.execute(
                uri: "/api/spaces/default/environments", method: .get, headers: [.cookie: session], body: nil
            ) { $0.status }
            #expect(read == .ok)
            let change = try await server.client.execute(
                uri: "/api/spaces/default/environments", method: .post,
                headers: [.cookie: session, .contentType: "application/json"], body: ByteBuffer(string: #"{"name":"X"}"#)
            ) { $0.status }
            #expect(change == .unauthorized)
            #expect(try await server.request(.get, "/api/spaces/default/environments").items.isEmpty)
        }
    }

    @Test("A session ends at logout, after two idle hours, and after twelve hours in any case")
    func sessionEnds() async throws {
        try await Self.withAdministrator { server, session in
            let store = server.server.store
            // Idle: its last request was three hours ago.
            let idle = try await Self.logIn(server)
            let idleHash = APIKeyFactory.hash(String(idle.split(separator: "=", maxSplits: 1)[1]))
            try await store.database.transaction { db in
                try await db.raw(
                    "UPDATE browser_sessions SET last_seen_at = \(bind: Int64(Date().addingTimeInterval(-3 * 3600).timeIntervalSince1970 * 1000)) WHERE token_hash = \(bind: idleHash)"
                ).run()
            }
            #expect(try await Self.get(server, "/tasks", cookies: idle).status == .seeOther)
            // Past its absolute end, however busy.
            let old = try await Self.logIn(server)
            let oldHash = APIKeyFactory.hash(String(old.split(separator: "=", maxSplits: 1)[1]))
            try await store.database.transaction { db in
                try await db.raw(
                    "UPDATE browser_sessions SET expires_at = \(bind: Int64(Date().addingTimeInterval(-1).timeIntervalSince1970 * 1000)) WHERE token_hash = \(bind: oldHash)"
                ).run()
            }
            #expect(try await Self.get(server, "/tasks", cookies: old).status == .seeOther)
            // Logout: the cookie stops working at once, and the database keeps no trace of it.
            let page = try await Self.get(server, "/tasks", cookies: session)
            #expect(page.status == .ok)
            let out = try await Self.post(server, "/logout", ["csrf": try #require(page.csrf)], cookies: session)
            #expect(out.status == .seeOther && out.headers[.location] == "/login")
            #expect(try await Self.get(server, "/tasks", cookies: session).status == .seeOther)
            let token = String(session.split(separator: "=", maxSplits: 1)[1])
            #expect(try await store.browserSession(tokenHash: APIKeyFactory.hash(token)) == nil)
            // The database holds hashes only: no row carries the token.
            let rows = try await store.database.withConnection { db in
                try await db.raw("SELECT token_hash FROM browser_sessions").all().map {
                    try $0.decode(column: "token_hash", as: String.self)
                }
            }
            #expect(!rows.contains(token) && !rows.contains(String(idle.split(separator: "=")[1])))
        }
    }

    @Test("The task log streams as server-sent events: every line, then the end with the task's outcome")
    func logStream() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
            let script: [String: Any] = [
                "name": "Count", "type": "run-aws-cli-script", "properties": ["script": "for i in 1 2 3; do echo line $i; done"],
            ]
            _ = try await server.request(.put, "/api/spaces/default/projects/web", json: ["steps": [script]])
            _ = try await server.request(.post, "/api/spaces/default/projects/web/releases", json: ["version": "1"])
            let deployment = try await server.request(
                .post, "/api/spaces/default/deployments", json: ["project": "web", "release": "1", "environment": "Staging"])
            let taskID = try #require(deployment.json["taskId"] as? String)
            // Asked at once: the stream follows the task until it ends.
            let text = try await server.client.execute(
                uri: "/api/tasks/\(taskID)/log/stream", method: .get, headers: [.authorization: "Bearer \(server.key)"],
                body: nil
            ) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                return String(buffer: response.body)
            }
            let lines = try await server.server.store.taskLog(taskID: taskID)
            #expect(lines.count > 3)
            let ids = text.matches(of: /id: (\d+)\nevent: line\n/).map { Int($0.output.1)! }
            #expect(ids == lines.map(\.sequence), "every line once, in order")
            #expect(text.contains("line 3"))
            let end = try #require(text.firstMatch(of: /event: end\ndata: (.+)\n\n$/), "\(text.suffix(300))")
            #expect(end.output.1.contains("\"state\":\"succeeded\""), "\(end.output.1)")
            // From a point on (as a reconnecting EventSource asks): only what follows.
            let rest = try await server.client.execute(
                uri: "/api/tasks/\(taskID)/log/stream", method: .get,
                headers: [.authorization: "Bearer \(server.key)", HTTPField.Name("Last-Event-ID")!: "\(lines[1].sequence)"],
                body: nil
            ) { String(buffer: $0.body) }
            #expect(rest.matches(of: /event: line/).count == lines.count - 2)
        }
    }
}

@Suite("Web UI: one-time login links")
struct LoginLinkTests {
    /// Opens the link's page (which says whom it logs in as, or that it does not work), then
    /// sends the link's form as a browser would.
    static func follow(_ server: TestServer, _ url: String, as username: String? = nil) async throws -> WebUITests.Page {
        let path = String(url[url.range(of: "/login/link/")!.lowerBound...])
        let page = try await WebUITests.get(server, path)
        if let username {
            #expect(page.text.contains("logs you in once as <strong id=\"link-user\">\(username)</strong>"), "\(page.text)")
        } else {
            #expect(page.text.contains("not valid") && !page.text.contains("action=\"/login/link\""), "\(page.text)")
        }
        // The form's token, bound to the login cookie (the login page gives both when the link page shows no form).
        let form = username == nil ? try await WebUITests.get(server, "/login") : page
        let binding = form.cookie(WebSessions.loginCookie)?.split(separator: ";").first.map(String.init)
        let token = String(path.dropFirst("/login/link/".count))
        return try await WebUITests.post(
            server, "/login/link", ["csrf": form.csrf ?? "", "token": token], cookies: binding)
    }

    @Test("A login link logs its user in once, to their profile; a second use, a made-up link and an expired one do not")
    func once() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/users", json: ["username": "dana"])
            let made = try await server.request(.post, "/api/users/dana/login-link")
            #expect(made.status == .created, "\(made.text)")
            let url = try #require(made.json["url"] as? String)
            #expect(url.hasPrefix("http") && url.contains("/login/link/berthl_"), "\(url)")
            let first = try await Self.follow(server, url, as: "dana")
            #expect(first.status == .seeOther && first.headers[.location] == "/profile", "\(first.status) \(first.text)")
            let session = try #require(first.cookie(WebSessions.sessionCookie)?.split(separator: ";").first.map(String.init))
            let profile = try await WebUITests.get(server, "/profile", cookies: session)
            #expect(profile.status == .ok && profile.text.contains("Set your password"), "\(profile.text.prefix(400))")
            // Its user sets a password there.
            let saved = try await WebUITests.post(
                server, "/profile/password",
                ["csrf": try #require(profile.csrf), "password": WebUITests.password, "repeat": WebUITests.password],
                cookies: session)
            #expect(saved.status == .ok && saved.text.contains("Your password is set."), "\(saved.text.prefix(400))")
            #expect(try await WebUITests.logIn(server, "dana").hasPrefix(WebSessions.sessionCookie))
            let again = try await Self.follow(server, url)
            #expect(again.status == .unauthorized && again.cookie(WebSessions.sessionCookie) == nil)
            let madeUp = try await Self.follow(server, "/login/link/berthl_\(UUID().uuidString)")
            #expect(madeUp.status == .unauthorized)
            // Expired: the database's clock says so.
            let late = try #require(try await server.request(.post, "/api/users/dana/login-link").json["url"] as? String)
            try await server.server.store.database.transaction { db in
                try await db.raw("UPDATE login_links SET expires_at = 1").run()
            }
            #expect(try await Self.follow(server, late).status == .unauthorized)
            // Every use and misuse is in the audit log, and no token is.
            let audit = try await server.request(.get, "/api/audit?action=createSession&limit=100").text
            #expect(audit.contains("succeeded: login link") && audit.contains("failed: This login link is not valid"))
            let logins = try await server.request(.get, "/api/audit?action=createSession&limit=100").items
            #expect(
                logins.contains {
                    ($0["details"] as? [String: Any])?["outcome"] as? String == "succeeded: login link"
                        && ($0["details"] as? [String: Any])?["username"] as? String == "dana"
                }, "a login through a link names its user: \(logins)")
            // A disabled user's link does not log in (and stays unused: enabling them makes it work).
            let kept = try #require(try await server.request(.post, "/api/users/dana/login-link").json["url"] as? String)
            _ = try await server.request(.patch, "/api/users/dana", json: ["disabled": true])
            let disabled = try await WebUITests.get(server, "/login")
            let binding = disabled.cookie(WebSessions.loginCookie)?.split(separator: ";").first.map(String.init)
            let refused = try await WebUITests.post(
                server, "/login/link",
                ["csrf": disabled.csrf ?? "", "token": String(kept[kept.range(of: "berthl_")!.lowerBound...])], cookies: binding)
            #expect(refused.status == .unauthorized && refused.cookie(WebSessions.sessionCookie) == nil, "\(refused.status)")
            _ = try await server.request(.patch, "/api/users/dana", json: ["disabled": false])
            #expect(try await Self.follow(server, kept, as: "dana").status == .seeOther)
            #expect(!audit.contains("berthl_") && !audit.contains("berths_"))
        }
    }

    @Test("Only a user manager who may do all the user may makes a link for them; a narrowed key makes none")
    func whoMakesLinks() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/users", json: ["username": "mallory"])
            _ = try await server.request(.post, "/api/teams", json: ["name": "people"])
            _ = try await server.request(.post, "/api/teams/people/members", json: ["user": "mallory"])
            _ = try await server.request(.post, "/api/teams/people/grants", json: ["role": "Viewer", "space": "default"])
            let key = try #require(
                try await server.request(.post, "/api/api-keys", json: ["name": "m", "user": "mallory"]).json["key"] as? String)
            // Mallory, a Viewer, asks for the administrator's link: it would log her in as them.
            let refused = try await server.request(.post, "/api/users/administrator/login-link", key: .some(key))
            #expect(refused.status == .forbidden, "\(refused.text)")
            #expect(try await server.request(.post, "/api/users/mallory/login-link", key: .some(key)).status == .created)
            let narrowed = try #require(
                try await server.request(
                    .post, "/api/api-keys", json: ["name": "narrow", "role": "Viewer", "space": "default"]
                ).json["key"] as? String)
            let shed = try await server.request(.post, "/api/users/administrator/login-link", key: .some(narrowed))
            #expect(shed.status == .forbidden && shed.errorMessage.contains("narrowed"), "\(shed.text)")
        }
    }
}

@Suite("Web UI: the project editor")
struct ProjectEditorTests {
    @Test(
        "The editor shows the project as its apply document; a bad edit is refused at its field and kept; a good one is applied")
    func editor() async throws {
        try await WebUITests.withAdministrator { server, session in
            _ = try await server.request(.post, "/api/spaces/default/environments", json: ["name": "Staging"])
            let step: [String: Any] = [
                "name": "Hello", "type": "run-aws-cli-script", "properties": ["script": "echo 'true' #{Greeting}"],
            ]
            _ = try await server.request(
                .put, "/api/spaces/default/projects/web",
                json: [
                    "description": "The shop", "steps": [step],
                    "variables": [
                        ["name": "Greeting", "value": "true", "scope": ["environments": ["Staging"]]],
                        ["name": "Token", "value": "s3cret-\(UUID().uuidString)", "type": "sensitive"],
                    ],
                ])
            let page = try await WebUITests.get(server, "/spaces/default/projects/web/edit", cookies: session)
            #expect(page.status == .ok, "\(page.text.prefix(300))")
            let document = try #require(
                page.text.firstMatch(of: /<textarea[^>]*>([\s\S]*?)<\/textarea>/).map { String($0.output.1) })
            let yaml = document.replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
            #expect(yaml.contains("name: web") && yaml.contains("type: run-aws-cli-script"), "\(yaml)")
            #expect(yaml.contains("value: \"true\""), "a string that reads as a boolean is quoted: \(yaml)")
            #expect(!yaml.contains("s3cret"), "sensitive values are not in the document")
            // A bad step type: refused at its field, with the text as it was typed.
            let token = try #require(page.csrf)
            let broken = yaml.replacingOccurrences(of: "type: run-aws-cli-script", with: "type: run-everything")
            let refused = try await WebUITests.post(
                server, "/spaces/default/projects/web/edit", ["csrf": token, "document": broken], cookies: session)
            #expect(refused.status.code == 422, "\(refused.status)")
            #expect(
                refused.text.contains("steps[0].type") && refused.text.contains("run-everything"), "\(refused.text.suffix(900))")
            // A typo in a step's key, or a condition that is not a list, is named, not dropped.
            let typeLine = try #require(yaml.split(separator: "\n").first { $0.contains("type: run-aws-cli-script") })
            let indent = String(typeLine.prefix { $0 == " " })
            let typo = yaml.replacingOccurrences(
                of: String(typeLine), with: "\(typeLine)\n\(indent)excludeEnvironment: [Staging]")
            let typoed = try await WebUITests.post(
                server, "/spaces/default/projects/web/edit", ["csrf": token, "document": typo], cookies: session)
            #expect(
                typoed.status.code == 422 && typoed.text.contains("steps[0].excludeEnvironment"), "\(typoed.text.suffix(600))")
            // Read back as typed: the document round-trips, and a changed description is applied.
            let edited = yaml.replacingOccurrences(of: "description: The shop", with: "description: The new shop")
            let saved = try await WebUITests.post(
                server, "/spaces/default/projects/web/edit", ["csrf": token, "document": edited], cookies: session)
            #expect(saved.status == .seeOther, "\(saved.status) \(saved.text.suffix(600))")
            let project = try await server.request(.get, "/api/spaces/default/projects/web").json
            #expect(project["description"] as? String == "The new shop")
            let variables = try await server.request(.get, "/api/spaces/default/projects/web/variables").items
            #expect(variables.count == 2, "the sensitive variable kept its value: \(variables)")
            #expect(variables.first { $0["name"] as? String == "Greeting" }?["value"] as? String == "true")
            #expect(
                (variables.first { $0["name"] as? String == "Token" }?["secret"] as? [String: Any])?["hasValue"] as? Bool == true)
            let steps = project["steps"] as? [[String: Any]] ?? []
            #expect((steps.first?["properties"] as? [String: Any])?["script"] as? String == "echo 'true' #{Greeting}")
            // The kept sensitive value still opens for its variable.
            let stored = try await server.server.store.variables(
                projectID: try await server.server.store.project(
                    "web", spaceID: try await server.server.store.space("default").id
                ).id)
            let sensitive = try #require(stored.first { $0.name == "Token" })
            #expect(
                try server.server.secrets.open(
                    try #require(sensitive.sealedValue), for: .projectVariable(variableID: sensitive.id)
                ).hasPrefix("s3cret-"))
            // Nested aliases that would expand to millions of values are refused, not expanded.
            let laughs = """
                name: web
                steps: []
                a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
                b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
                d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
                e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
                f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
                g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
                """
            let bomb = try await WebUITests.post(
                server, "/spaces/default/projects/web/edit", ["csrf": token, "document": laughs], cookies: session)
            #expect(bomb.status.code == 422 && bomb.text.contains("more than 100000 values"), "\(bomb.status)")
        }
    }
}

@Suite("Web UI: templates")
struct TemplateTests {
    @Test("Absent values render as nothing, never as 'nil'; present ones are escaped; nested lists keep their items")
    func absentValues() throws {
        let values: [String: Any] = [
            "error": String?.none as Any, "next": "/tasks",
            "rows": [["name": "<b>web</b>", "roles": String?.none as Any], ["name": "api", "roles": String?("web") as Any]],
        ]
        let present = WebUI.present(values)
        #expect(present["error"] == nil && present["next"] as? String == "/tasks")
        let rows = try #require(present["rows"] as? [[String: Any]])
        #expect(rows.count == 2 && rows[0]["roles"] == nil && rows[1]["roles"] as? String == "web")
    }

    @Test("Text is escaped as HTML byte by byte, characters beyond ASCII kept whole; every template escapes its values")
    func escaping() throws {
        #expect(HTMLText.escape("plain text, ünïcödé ✓ 🚢") == "plain text, ünïcödé ✓ 🚢")
        #expect(
            HTMLText.escape(#"<script>alert("x" & 'y')</script> 🚢>"#)
                == "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt; 🚢&gt;")
        #expect(HTMLText.escape("") == "")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("berth-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "<p title=\"{{value}}\">{{value}}</p>{{{value}}}".write(
            to: directory.appendingPathComponent("probe.mustache"), atomically: true, encoding: .utf8)
        let library = try WebUI.loadTemplates(from: directory)
        #expect(
            library.render(["value": "<b>\"x\"</b>"], withTemplate: "probe")
                == "<p title=\"&lt;b&gt;&quot;x&quot;&lt;/b&gt;\">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</p><b>\"x\"</b>")
    }

    @Test("Times are shown in UTC as 'YYYY-MM-DD HH:MM:SS'")
    func times() {
        #expect(WebUI.time(Date(timeIntervalSince1970: 1_796_029_262.75)) == "2026-11-30 09:01:02")
        #expect(WebUI.time(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00")
        #expect(WebUI.time(nil) == "")
    }

    @Test("The login page shows no error when there is none, and the error when there is one")
    func loginPage() async throws {
        try await TestServer.with { server in
            let page = try await WebUITests.get(server, "/login")
            #expect(!page.text.contains("nil") && !page.text.contains("class=\"error\""), "\(page.text)")
            let wrong = try await WebUITests.post(
                server, "/login", ["csrf": page.csrf ?? "", "username": "nobody", "password": "nothing at all"],
                cookies: page.cookie(WebSessions.loginCookie)?.split(separator: ";").first.map(String.init))
            #expect(wrong.text.contains("class=\"error\" role=\"alert\">The username or password is wrong"), "\(wrong.text)")
        }
    }
}

@Suite("Variables set again")
struct VariableReplaceTests {
    @Test("A sensitive variable set again (the API, the web form) is replaced in place and its new value opens")
    func sensitiveAgain() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.put, "/api/spaces/default/projects/web", json: ["steps": [[String: Any]]()])
            for value in ["first-\(UUID().uuidString)", "second-\(UUID().uuidString)"] {
                let set = try await server.request(
                    .post, "/api/spaces/default/projects/web/variables",
                    json: ["name": "Token", "value": value, "type": "sensitive"])
                #expect(set.status == .ok, "\(set.text)")
                let store = server.server.store
                let project = try await store.project("web", spaceID: try await store.space("default").id)
                let stored = try await store.variables(projectID: project.id)
                #expect(stored.count == 1)
                let variable = try #require(stored.first)
                #expect(
                    try server.server.secrets.open(
                        try #require(variable.sealedValue), for: .projectVariable(variableID: variable.id)) == value)
            }
        }
    }
}
