import BerthDomain
import BerthOIDC
import BerthStore
import BerthUseCases
import Foundation
import Hummingbird

/// Users and teams: who may log in, and what their teams' roles give them.
extension WebUI {
    func usersPage(_ visit: Visit, link: (url: String, user: String)? = nil) async throws -> Response {
        let users = try await useCases.listUsers(by: visit.requester)
        var rows: [[String: Any]] = []
        for user in users {
            rows.append([
                "username": user.username, "displayName": user.displayName, "email": user.email ?? "",
                "kind": user.kind == .person ? "person" : "service account", "person": user.kind == .person,
                "disabled": user.isDisabled, "teams": try await useCases.store.teamNames(userID: user.id).joined(separator: ", "),
                "linkURL": "/users/\(Self.segment(user.username))/login-link",
                "toggleURL": "/users/\(Self.segment(user.username))/\(user.isDisabled ? "enable" : "disable")",
            ])
        }
        return try render(
            "users", ["csrf": visit.csrf, "users": rows, "link": link.map { ["url": $0.url, "user": $0.user] } as Any],
            title: "Users", visit: visit)
    }

    func createUser(_ visit: Visit, _ form: WebForm) async throws -> Response {
        _ = try await useCases.createUser(
            username: form["username"] ?? "", displayName: form["displayName"], email: form["email"],
            serviceAccount: form["kind"] == "service-account", by: visit.requester)
        return Self.redirect("/users")
    }

    func loginLink(_ visit: Visit, _ form: WebForm) async throws -> Response {
        let (token, user, _) = try await useCases.createLoginLink(for: try visit.parameter("user"), by: visit.requester)
        let url = APIService.loginLinkURL(useCases.issuer.configuration.issuer, token)
        return try await usersPage(visit, link: (url, user.username))
    }

    func setDisabled(_ visit: Visit, _ disabled: Bool) async throws -> Response {
        _ = try await useCases.updateUser(
            try visit.parameter("user"), displayName: nil, email: nil, disabled: disabled, by: visit.requester)
        return Self.redirect("/users")
    }

    func teamsPage(_ visit: Visit) async throws -> Response {
        let teams = try await useCases.listTeams(by: visit.requester)
        let roles = try await useCases.listRoles()
        let spaces = try await useCases.store.listSpaces()
        let spaceNames = Dictionary(uniqueKeysWithValues: spaces.map { ($0.id, $0.name) })
        var rows: [[String: Any]] = []
        for team in teams {
            let (members, grants) = try await useCases.store.teamContents(teamID: team.id)
            var grantRows: [[String: Any]] = []
            for grant in grants {
                var limits: [String] = []
                if let spaceID = grant.spaceID {
                    let environments = try await useCases.store.listEnvironments(spaceID: spaceID)
                    limits += grant.environmentIDs.map { id in environments.first { $0.id == id }?.name ?? id }.sorted()
                    for id in grant.projectIDs.sorted() { limits.append(try await useCases.store.project(id: id)?.name ?? id) }
                }
                grantRows.append([
                    "role": roles.first { $0.id == grant.roleID }?.name ?? grant.roleID,
                    "space": grant.spaceID.map { spaceNames[$0] ?? $0 } ?? "every space",
                    "limits": limits.joined(separator: ", "),
                    "revokeURL": "/teams/\(Self.segment(team.name))/grants/\(Self.segment(grant.id))/revoke",
                ])
            }
            rows.append([
                "name": team.name, "description": team.description, "members": members.map(\.username).joined(separator: ", "),
                "grants": grantRows, "memberURL": "/teams/\(Self.segment(team.name))/members",
                "grantURL": "/teams/\(Self.segment(team.name))/grants",
            ])
        }
        return try render(
            "teams",
            [
                "csrf": visit.csrf, "teams": rows, "roles": roles.map { ["name": $0.name] },
                "spaces": spaces.map { ["name": $0.name] },
            ], title: "Teams", visit: visit)
    }

    func createTeam(_ visit: Visit, _ form: WebForm) async throws -> Response {
        _ = try await useCases.createTeam(name: form["name"] ?? "", description: form["description"] ?? "", by: visit.requester)
        return Self.redirect("/teams")
    }

    func addTeamMember(_ visit: Visit, _ form: WebForm) async throws -> Response {
        _ = try await useCases.addTeamMember(form["user"] ?? "", team: try visit.parameter("team"), by: visit.requester)
        return Self.redirect("/teams")
    }

    func grantRole(_ visit: Visit, _ form: WebForm) async throws -> Response {
        _ = try await useCases.grantRole(
            UseCases.GrantInput(
                role: form["role"] ?? "", space: form["space"], projects: form.list("projects"),
                environments: form.list("environments")),
            team: try visit.parameter("team"), by: visit.requester)
        return Self.redirect("/teams")
    }

    func revokeGrant(_ visit: Visit, _ form: WebForm) async throws -> Response {
        _ = try await useCases.revokeGrant(try visit.parameter("grant"), team: try visit.parameter("team"), by: visit.requester)
        return Self.redirect("/teams")
    }
}
