import BerthDomain
import BerthOIDC
import BerthServer
import BerthStore
import BerthUseCases
import Foundation
import Testing

/// The use cases decide on their own, without the HTTP layer in front: a caller who holds nothing
/// calls every action directly (as the web UI and the dev seeding do) on records that exist, and
/// each one is refused with 403 before anything is written — no change, no audit event.
@Suite("Use cases refuse on their own")
struct UseCaseAccessTests {
    static func refused(_ action: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("\(action) went through for a caller who holds nothing")
        } catch let error as BerthError {
            #expect(error.code == .forbidden, "\(action): \(error)")
        } catch {
            Issue.record("\(action): \(error)")
        }
    }

    @Test("Every action called directly by a caller without permissions is refused, and nothing is written")
    func everyActionRefused() async throws {
        try await TestServer.with { server in
            let actions = server.server.useCases
            let store = server.server.store
            let admin = try await actions.requester(actingAs: User.administratorName, keyName: "test")
            let space = Space.defaultName
            _ = try await actions.createEnvironment(name: "Staging", sortOrder: nil, space: space, by: admin)
            _ = try await actions.createAccount(
                AccountDraft(
                    kind: .awsAccessKey, name: "prod", region: "eu-west-1", accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                    secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                environments: [], space: space, by: admin)
            _ = try await actions.createTarget(
                UseCases.TargetInput(
                    name: "web-cluster", environments: ["Staging"], roles: ["web"], account: "prod", region: "eu-west-1",
                    clusterName: "web"),
                space: space, by: admin)
            _ = try await actions.createWorkerPool(name: "fleet", space: space, by: admin)
            let script = DeploymentStep(
                name: "Hello", kind: .awsCLIScript, targetRoles: [], properties: .object([("script", .string("true"))]))
            _ = try await actions.createProject(name: "web", description: "", steps: [script], space: space, by: admin)
            _ = try await actions.createRelease(version: "1", images: [:], project: "web", space: space, by: admin)
            let deployment = try await actions.deploy(
                project: "web", release: "1", environment: "Staging", space: space, by: admin)
            _ = try await server.finishedTask(deployment.task.id)
            _ = try await actions.createTeam(name: "developers", description: "", by: admin)
            let grantTeam = try await actions.grantRole(
                UseCases.GrantInput(role: "Viewer", space: space), team: "developers", by: admin)
            let grantID = try #require(try await store.teamContents(teamID: grantTeam.id).grants.first?.id)
            let key = try await actions.rotateOIDCKey(algorithm: nil, lead: nil, by: admin)
            _ = try await store.createUser(User(username: "nobody", displayName: "Nobody", createdAt: Date()))
            let node = try #require(try await store.listNodes().first?.name)

            let nobody = try await actions.requester(actingAs: "nobody", keyName: "nobody-key")
            let before = try await store.auditEvents(.init(limit: 1000)).count
            await Self.refused("createSpace") { _ = try await actions.createSpace(name: "Mine", by: nobody) }
            await Self.refused("createEnvironment") {
                _ = try await actions.createEnvironment(name: "Mine", sortOrder: nil, space: space, by: nobody)
            }
            await Self.refused("updateEnvironment") {
                _ = try await actions.updateEnvironment("staging", name: "Mine", sortOrder: nil, space: space, by: nobody)
            }
            await Self.refused("deleteEnvironment") { try await actions.deleteEnvironment("staging", space: space, by: nobody) }
            await Self.refused("account") { _ = try await actions.account("prod", space: space, by: nobody) }
            await Self.refused("createAccount") {
                _ = try await actions.createAccount(
                    AccountDraft(kind: .awsOIDC, name: "mine", roleARN: "arn:aws:iam::123456789012:role/x"), environments: [],
                    space: space, by: nobody)
            }
            await Self.refused("updateAccount") {
                _ = try await actions.updateAccount("prod", UseCases.AccountChange(description: "x"), space: space, by: nobody)
            }
            await Self.refused("deleteAccount") { try await actions.deleteAccount("prod", space: space, by: nobody) }
            await Self.refused("testAccount") { _ = try await actions.testAccount("prod", space: space, by: nobody) }
            await Self.refused("createTarget") {
                _ = try await actions.createTarget(
                    UseCases.TargetInput(
                        name: "mine", environments: ["Staging"], roles: ["web"], useWorkerCredentials: true, region: "eu-west-1",
                        clusterName: "x"),
                    space: space, by: nobody)
            }
            var retarget = UseCases.TargetChange()
            retarget.clusterName = "elsewhere"
            await Self.refused("updateTarget") {
                _ = try await actions.updateTarget("web-cluster", retarget, space: space, by: nobody)
            }
            await Self.refused("deleteTarget") { try await actions.deleteTarget("web-cluster", space: space, by: nobody) }
            await Self.refused("checkTargetHealth") {
                _ = try await actions.checkTargetHealth("web-cluster", space: space, by: nobody)
            }
            await Self.refused("checkAllTargetsHealth") { _ = try await actions.checkAllTargetsHealth(space: space, by: nobody) }
            await Self.refused("createWorkerPool") {
                _ = try await actions.createWorkerPool(name: "mine", space: space, by: nobody)
            }
            await Self.refused("deleteWorkerPool") { try await actions.deleteWorkerPool("fleet", space: space, by: nobody) }
            await Self.refused("createRegistrationToken") {
                _ = try await actions.createRegistrationToken(pool: "fleet", space: space, by: nobody)
            }
            await Self.refused("revokeRegistrationToken") {
                try await actions.revokeRegistrationToken(pool: "fleet", space: space, by: nobody)
            }
            await Self.refused("listProjects") { _ = try await actions.listProjects(space: space, by: nobody) }
            await Self.refused("createProject") {
                _ = try await actions.createProject(name: "mine", description: "", steps: [], space: space, by: nobody)
            }
            await Self.refused("applyProject") {
                _ = try await actions.applyProject(
                    "web", description: "x", steps: [], variables: nil, space: space, by: nobody)
            }
            await Self.refused("deleteProject") { try await actions.deleteProject("web", space: space, by: nobody) }
            await Self.refused("setVariable") {
                _ = try await actions.setVariable(
                    UseCases.VariableInput(name: "X", value: "1"), project: "web", space: space, by: nobody)
            }
            await Self.refused("createRelease") {
                _ = try await actions.createRelease(version: "2", images: [:], project: "web", space: space, by: nobody)
            }
            await Self.refused("deploy") {
                _ = try await actions.deploy(project: "web", release: "1", environment: "Staging", space: space, by: nobody)
            }
            await Self.refused("task") { _ = try await actions.task(deployment.task.id, by: nobody) }
            await Self.refused("cancelTask") { _ = try await actions.cancelTask(deployment.task.id, by: nobody) }
            await Self.refused("setDraining") { _ = try await actions.setDraining(node: node, true, by: nobody) }
            await Self.refused("createAPIKey for another user") {
                _ = try await actions.createAPIKey(UseCases.APIKeyInput(name: "theirs", user: "administrator"), by: nobody)
            }
            await Self.refused("revokeAPIKey of another user") {
                try await actions.revokeAPIKey("administrator", by: nobody)
            }
            await Self.refused("createUser") {
                _ = try await actions.createUser(
                    username: "mallory", displayName: nil, email: nil, serviceAccount: false, by: nobody)
            }
            await Self.refused("updateUser") {
                _ = try await actions.updateUser("administrator", displayName: nil, email: nil, disabled: true, by: nobody)
            }
            await Self.refused("setPassword of another user") {
                try await actions.setPassword(
                    of: "administrator", to: "a password long enough", currentPassword: nil, by: nobody)
            }
            await Self.refused("createTeam") { _ = try await actions.createTeam(name: "mine", description: "", by: nobody) }
            await Self.refused("addTeamMember") {
                _ = try await actions.addTeamMember("nobody", team: "Administrators", by: nobody)
            }
            await Self.refused("removeTeamMember") {
                _ = try await actions.removeTeamMember("administrator", team: "Administrators", by: nobody)
            }
            await Self.refused("grantRole") {
                _ = try await actions.grantRole(
                    UseCases.GrantInput(role: "System administrator"), team: "developers", by: nobody)
            }
            await Self.refused("revokeGrant") { _ = try await actions.revokeGrant(grantID, team: "developers", by: nobody) }
            await Self.refused("createRole") {
                _ = try await actions.createRole(name: "mine", description: "", permissions: [.auditView], by: nobody)
            }
            await Self.refused("rotateOIDCKey") { _ = try await actions.rotateOIDCKey(algorithm: nil, lead: nil, by: nobody) }
            await Self.refused("revokeOIDCKey") { _ = try await actions.revokeOIDCKey(key.key.id, by: nobody) }
            await Self.refused("auditEvents") { _ = try await actions.auditEvents(.init(), by: nobody) }

            #expect(try await store.auditEvents(.init(limit: 1000)).count == before, "a refused action left an event")
            #expect(try await store.listEnvironments(spaceID: try await store.space(space).id).map(\.name) == ["Staging"])
            #expect(try await store.findProject("web", spaceID: try await store.space(space).id) != nil)
            #expect(try await store.user("administrator").isDisabled == false)
            #expect(try await store.teamContents(teamID: grantTeam.id).grants.count == 1)
        }
    }

    @Test("Limited grants hold only where they are: Staging, not Production; one project, not another; no one's login link")
    func limitedGrants() async throws {
        try await TestServer.with { server in
            let actions = server.server.useCases
            let store = server.server.store
            let admin = try await actions.requester(actingAs: User.administratorName, keyName: "test")
            let space = Space.defaultName
            for name in ["Staging", "Production"] {
                _ = try await actions.createEnvironment(name: name, sortOrder: nil, space: space, by: admin)
            }
            let script = DeploymentStep(
                name: "Hello", kind: .awsCLIScript, targetRoles: [], properties: .object([("script", .string("true"))]))
            for name in ["web", "api"] {
                _ = try await actions.createProject(name: name, description: "", steps: [script], space: space, by: admin)
                _ = try await actions.createRelease(version: "1", images: [:], project: name, space: space, by: admin)
            }
            _ = try await actions.createUser(username: "dana", displayName: nil, email: nil, serviceAccount: false, by: admin)
            _ = try await actions.createTeam(name: "deployers", description: "", by: admin)
            _ = try await actions.addTeamMember("dana", team: "deployers", by: admin)
            _ = try await actions.grantRole(
                UseCases.GrantInput(role: "Deployer", space: space, environments: ["Staging"]), team: "deployers", by: admin)
            _ = try await actions.grantRole(
                UseCases.GrantInput(role: "Project lead", space: space, projects: ["web"], environments: ["Staging"]),
                team: "deployers", by: admin)
            let dana = try await actions.requester(actingAs: "dana", keyName: "dana-key")
            let staged = try await actions.deploy(project: "web", release: "1", environment: "Staging", space: space, by: dana)
            #expect(staged.environment.name == "Staging")
            await Self.refused("deploy to Production") {
                _ = try await actions.deploy(project: "web", release: "1", environment: "Production", space: space, by: dana)
            }
            await Self.refused("edit a project outside the grant") {
                _ = try await actions.applyProject(
                    "api", description: "x", steps: [script], variables: nil, space: space, by: dana)
            }
            _ = try await actions.applyProject(
                "web", description: "theirs", steps: [script], variables: nil, space: space, by: dana)
            await Self.refused("the administrator's login link") {
                _ = try await actions.createLoginLink(for: User.administratorName, by: dana)
            }
            #expect(try await store.findProject("api", spaceID: try await store.space(space).id)?.description == "")
            _ = try await server.finishedTask(staged.task.id)
        }
    }
}
