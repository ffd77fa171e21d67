import BerthDomain
import BerthUseCases
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension WebUI {
    func register(on router: Router<Context>) {
        router.get("/assets/:file") { _, context -> Response in
            guard let name = context.parameters.get("file"), let asset = assets[name] else {
                throw HTTPError(.notFound)
            }
            var headers = HTTPFields()
            headers[.contentType] = asset.type
            headers[.cacheControl] = "no-cache"
            for (name, value) in Self.securityHeaders { headers[name] = value }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.bytes))
        }
        router.get("/login") { request, _ in try loginPage(request: request, error: nil) }
        router.post("/login") { request, context in try await logIn(request, context) }
        router.post("/logout", use: action { visit, _ in try await logOut(visit) })
        router.get("/login/link/:token") { request, context in try await loginLinkPage(request, context) }
        router.post("/login/link") { request, context in try await followLoginLink(request, context) }
        router.get("/profile", use: page { visit in try await profile(visit, saved: false) })
        router.post("/profile/password", use: action { try await setOwnPassword($0, $1) })

        router.get("/", use: page { visit in try await home(visit) })
        router.get("/spaces/:space", use: page { visit in try await dashboard(visit) })
        router.get("/spaces/:space/projects/:project", use: page { visit in try await projectPage(visit) })
        router.get("/spaces/:space/projects/:project/edit", use: page { visit in try await projectEditor(visit) })
        router.post("/spaces/:space/projects/:project/edit", use: action { try await saveProject($0, $1) })
        router.post("/spaces/:space/projects/:project/releases", use: action { try await createRelease($0, $1) })
        router.post("/spaces/:space/projects/:project/variables", use: action { try await setVariable($0, $1) })
        router.post("/spaces/:space/deployments", use: action { try await deploy($0, $1) })
        router.get("/spaces/:space/infrastructure", use: page { visit in try await infrastructure(visit) })
        router.post("/spaces/:space/environments", use: action { try await createEnvironment($0, $1) })
        router.post("/spaces/:space/environments/:environment/move", use: action { try await moveEnvironment($0, $1) })
        router.post("/spaces/:space/accounts", use: action { try await createAccount($0, $1) })
        router.post("/spaces/:space/accounts/:account/test", use: action { try await testAccount($0, $1) })
        router.post("/spaces/:space/targets", use: action { try await createTarget($0, $1) })
        router.post("/spaces/:space/targets/:target/health-check", use: action { try await checkHealth($0, $1) })
        router.get("/tasks", use: page { visit in try await tasksPage(visit) })
        router.get("/tasks/:task", use: page { visit in try await taskPage(visit) })
        router.post("/tasks/:task/cancel", use: action { try await cancelTask($0, $1) })
        router.post("/tasks/:task/approve", use: action { try await answerIntervention($0, $1, .approved) })
        router.post("/tasks/:task/reject", use: action { try await answerIntervention($0, $1, .rejected) })
        router.get("/audit", use: page { visit in try await auditPage(visit) })
        router.get("/oidc", use: page { visit in try await oidcPage(visit) })
        router.get("/users", use: page { visit in try await usersPage(visit) })
        router.post("/users", use: action { try await createUser($0, $1) })
        router.post("/users/:user/login-link", use: action { try await loginLink($0, $1) })
        router.post("/users/:user/disable", use: action { visit, _ in try await setDisabled(visit, true) })
        router.post("/users/:user/enable", use: action { visit, _ in try await setDisabled(visit, false) })
        router.get("/teams", use: page { visit in try await teamsPage(visit) })
        router.post("/teams", use: action { try await createTeam($0, $1) })
        router.post("/teams/:team/members", use: action { try await addTeamMember($0, $1) })
        router.post("/teams/:team/grants", use: action { try await grantRole($0, $1) })
        router.post("/teams/:team/grants/:grant/revoke", use: action { try await revokeGrant($0, $1) })
        router.get("/api-keys", use: page { visit in try await apiKeysPage(visit, created: nil) })
        router.post("/api-keys", use: action { try await createAPIKey($0, $1) })
        router.post("/api-keys/:key/revoke", use: action { try await revokeAPIKey($0, $1) })
    }

    /// The first space the user may view.
    func home(_ visit: Visit) async throws -> Response {
        guard let space = try await useCases.listSpaces(by: visit.requester).first else {
            return try render(
                "error", ["message": "Your teams give you no space to view. Ask an administrator for a role."],
                title: "Nothing to see yet", visit: visit)
        }
        return Self.redirect("/spaces/\(Self.segment(space.slug))")
    }
}
