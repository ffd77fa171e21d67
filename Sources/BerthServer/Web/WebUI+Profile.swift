import BerthDomain
import BerthStore
import BerthUseCases
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// One's own profile: who one is, and one's password.
extension WebUI {
    func profile(_ visit: Visit, saved: Bool) async throws -> Response {
        let user = visit.requester.user
        let hasPassword = try await useCases.store.passwordHash(username: user.username)?.hash != nil
        return try render(
            "profile",
            [
                "csrf": visit.csrf, "username": user.username, "displayName": user.displayName, "email": user.email ?? "",
                "teams": try await useCases.store.teamNames(userID: user.id).joined(separator: ", "),
                "hasPassword": hasPassword, "person": user.kind == .person, "saved": saved,
                "minimum": UseCases.minimumPasswordLength,
            ], title: "Your profile", visit: visit)
    }

    func setOwnPassword(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let password = form.fields.first { $0.name == "password" }?.value ?? ""
        guard password == form.fields.first(where: { $0.name == "repeat" })?.value else {
            throw BerthError.invalid("password", [.init(field: "repeat", message: "is not the same as the new password")])
        }
        try await useCases.setPassword(
            of: visit.requester.user.id, to: password, currentPassword: form.fields.first { $0.name == "current" }?.value,
            by: visit.requester)
        return try await profile(visit, saved: true)
    }

}
