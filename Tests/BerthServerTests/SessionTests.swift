import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import Testing

@testable import BerthServer

/// Passwords and logins, tried as someone guessing would.
@Suite("Passwords and logins")
struct SessionTests {
    @Test(
        "A user logs in with the password set for them and gets a 12-hour key of their own; guessing is refused after 5 failures, the right password too; the password is stored only as bcrypt"
    )
    func loginAndGuessing() async throws {
        try await TestServer.with { server in
            let dana = try await AccessControlTests.user(server, "dana")
            let password = "correct horse battery staple"
            // Too short; another user's password needs UserManage; a service account has none.
            let short = try await server.request(.put, "/api/users/dana/password", json: ["password": "short"])
            #expect(short.status == .badRequest, "\(short.text)")
            #expect(
                try await server.request(
                    .put, "/api/users/administrator/password", json: ["password": password], key: .some(dana)
                ).status == .forbidden)
            _ = try await server.request(.post, "/api/users", json: ["username": "ci-bot", "serviceAccount": true])
            let bot = try await server.request(.put, "/api/users/ci-bot/password", json: ["password": password])
            #expect(bot.status == .badRequest && bot.errorMessage.contains("service account"), "\(bot.text)")
            // Dana sets her own.
            #expect(
                try await server.request(.put, "/api/users/dana/password", json: ["password": password], key: .some(dana))
                    .status == .noContent)
            // Changing it again takes the current one: a key alone (a stolen session) is not enough.
            let withoutCurrent = try await server.request(
                .put, "/api/users/dana/password", json: ["password": "another long password"], key: .some(dana))
            #expect(
                withoutCurrent.status == .badRequest && withoutCurrent.text.contains("currentPassword"), "\(withoutCurrent.text)")
            #expect(
                try await server.request(
                    .put, "/api/users/dana/password",
                    json: ["password": password, "currentPassword": password], key: .some(dana)
                ).status == .noContent)
            let stored = try #require(try await server.server.store.passwordHash(username: "dana")?.hash)
            #expect(stored.hasPrefix("$2b$12$") && !stored.contains(password))

            let login = try await server.request(
                .post, "/api/sessions", json: ["username": "dana", "password": password], key: .some(nil))
            #expect(login.status == .created, "\(login.text)")
            let session = try #require(login.json["key"] as? String)
            let apiKey = try #require(login.json["apiKey"] as? [String: Any])
            let expires = try #require((apiKey["expiresAt"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
            #expect(abs(expires.timeIntervalSinceNow - 12 * 3600) < 60)
            let whoami = try await server.request(.get, "/api/whoami", key: .some(session))
            #expect((whoami.json["user"] as? [String: Any])?["username"] as? String == "dana", "\(whoami.text)")

            // A wrong password, and an unknown user, say the same.
            let wrong = try await server.request(
                .post, "/api/sessions", json: ["username": "dana", "password": "not the password"], key: .some(nil))
            let unknown = try await server.request(
                .post, "/api/sessions", json: ["username": "nobody", "password": "not the password"], key: .some(nil))
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(wrong.errorMessage == unknown.errorMessage)
            // Four more wrong guesses make five: then even the right password is refused.
            for _ in 0..<4 {
                _ = try await server.request(
                    .post, "/api/sessions", json: ["username": "dana", "password": "guess"], key: .some(nil))
            }
            let limited = try await server.request(
                .post, "/api/sessions", json: ["username": "dana", "password": password], key: .some(nil))
            #expect(limited.status == .tooManyRequests, "\(limited.text)")
            #expect(limited.errorMessage.contains("Too many failed logins for this user; try again after"), "\(limited.text)")
            // A service account has no password to log in with.
            let disabled = try await server.request(
                .post, "/api/sessions", json: ["username": "ci-bot", "password": password], key: .some(nil))
            #expect(disabled.status == .unauthorized)
        }
    }

    @Test("Guesses sent all at once are counted before any is checked: of ten, five are tried and five refused")
    func parallelGuesses() async throws {
        try await TestServer.with { server in
            _ = try await server.request(.post, "/api/users", json: ["username": "erin"])
            _ = try await server.request(.put, "/api/users/erin/password", json: ["password": "a long enough password"])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        try await server.request(
                            .post, "/api/sessions", json: ["username": "erin", "password": "guess \(index)"], key: .some(nil)
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 5, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 5, "\(statuses)")
        }
    }
}
