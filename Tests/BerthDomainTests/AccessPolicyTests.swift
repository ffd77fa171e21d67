import BerthDomain
import Foundation
import Testing

/// Who may do what, where: roles granted to teams in a space, limited to projects and environments.
@Suite("Permission resolution")
struct AccessPolicyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var grants: [AccessGrant]
        var permission: Permission
        var scope: AccessScope
        var allowed: Bool
        var testDescription: String
    }

    static let space = "space-a"
    static let other = "space-b"

    static func grant(_ role: Role, space: String? = space, projects: Set<String> = [], environments: Set<String> = [])
        -> AccessGrant
    {
        AccessGrant(teamID: "team", roleID: role.id, spaceID: space, projectIDs: projects, environmentIDs: environments)
    }

    static let cases: [Case] = [
        Case(
            grants: [], permission: .spaceView, scope: AccessScope(spaceID: space), allowed: false,
            testDescription: "no grant: nothing (deny by default)"),
        Case(
            grants: [grant(.systemAdministrator, space: nil)], permission: .userManage, scope: .server, allowed: true,
            testDescription: "a System administrator for every space manages users"),
        Case(
            grants: [grant(.systemAdministrator)], permission: .userManage, scope: .server, allowed: false,
            testDescription: "the System administrator role within one space gives no server permission"),
        Case(
            grants: [grant(.spaceManager)], permission: .accountEdit, scope: AccessScope(spaceID: space), allowed: true,
            testDescription: "a Space manager edits accounts of the space"),
        Case(
            grants: [grant(.spaceManager)], permission: .accountEdit, scope: AccessScope(spaceID: other), allowed: false,
            testDescription: "…and not of another space"),
        Case(
            grants: [grant(.spaceManager)], permission: .auditView, scope: .server, allowed: false,
            testDescription: "a Space manager does not read the audit log"),
        Case(
            grants: [grant(.deployer, environments: ["dev", "staging"])], permission: .deploymentCreate,
            scope: AccessScope(spaceID: space, projectID: "web", environmentID: "dev"), allowed: true,
            testDescription: "a Deployer limited to Development and Staging deploys to Development"),
        Case(
            grants: [grant(.deployer, environments: ["dev", "staging"])], permission: .deploymentCreate,
            scope: AccessScope(spaceID: space, projectID: "web", environmentID: "prod"), allowed: false,
            testDescription: "…and not to Production"),
        Case(
            grants: [grant(.deployer, environments: ["dev"])], permission: .deploymentCreate,
            scope: AccessScope(spaceID: space, projectID: "web"), allowed: false,
            testDescription: "…nor to an environment not named (an environment limit never means any)"),
        Case(
            grants: [grant(.deployer, environments: ["dev"])], permission: .spaceView, scope: AccessScope(spaceID: space),
            allowed: true, testDescription: "limits leave space permissions: a limited Deployer still sees the space"),
        Case(
            grants: [grant(.deployer, environments: ["dev"])], permission: .releaseCreate,
            scope: AccessScope(spaceID: space, projectID: "web"), allowed: true,
            testDescription: "an environment limit leaves project permissions"),
        Case(
            grants: [grant(.projectLead, projects: ["web"])], permission: .projectEdit,
            scope: AccessScope(spaceID: space, projectID: "web"), allowed: true,
            testDescription: "a Project lead limited to web edits web"),
        Case(
            grants: [grant(.projectLead, projects: ["web"])], permission: .projectEdit,
            scope: AccessScope(spaceID: space, projectID: "api"), allowed: false, testDescription: "…and not api"),
        Case(
            grants: [grant(.projectLead, projects: ["web"])], permission: .deploymentCreate,
            scope: AccessScope(spaceID: space, projectID: "api", environmentID: "dev"), allowed: false,
            testDescription: "…nor deploys api"),
        Case(
            grants: [grant(.viewer), grant(.deployer, environments: ["prod"])], permission: .deploymentCreate,
            scope: AccessScope(spaceID: space, projectID: "web", environmentID: "prod"), allowed: true,
            testDescription: "grants add up: Viewer and a Deployer for Production deploy to Production"),
        Case(
            grants: [grant(.viewer)], permission: .scriptStepEdit, scope: AccessScope(spaceID: space, projectID: "web"),
            allowed: false, testDescription: "a Viewer edits no script step"),
        Case(
            grants: [grant(.deployer)], permission: .scriptStepEdit, scope: AccessScope(spaceID: space, projectID: "web"),
            allowed: false, testDescription: "a Deployer cannot add a script (code run with the project's credentials)"),
        Case(
            grants: [AccessGrant(teamID: "team", roleID: "role-gone", spaceID: nil)], permission: .spaceView,
            scope: AccessScope(spaceID: space), allowed: false, testDescription: "a grant of an unknown role gives nothing"),
    ]

    @Test("A permission is held where a grant of a role holding it says", arguments: cases)
    func resolution(_ example: Case) {
        let policy = AccessPolicy(grants: example.grants, roles: Role.builtIn)
        #expect(policy.allows(example.permission, at: example.scope) == example.allowed)
    }

    @Test(
        "The built-in roles nest: Viewer ⊂ Deployer's space view, Deployer ⊂ Project lead ⊂ Space manager ⊂ System administrator")
    func builtInRoles() {
        #expect(Role.deployer.permissions.isSubset(of: Role.projectLead.permissions))
        #expect(Role.projectLead.permissions.isSubset(of: Role.spaceManager.permissions))
        #expect(Role.spaceManager.permissions.isSubset(of: Role.systemAdministrator.permissions))
        #expect(Role.viewer.permissions.isSubset(of: Role.spaceManager.permissions))
        #expect(Role.systemAdministrator.permissions == Set(Permission.allCases))
        #expect(Role.spaceManager.permissions.allSatisfy { $0.level != .server })
    }

    @Test("A disabled user's caller may do nothing, whatever the grants")
    func disabledUser() {
        var user = User(username: "dev", displayName: "Dev", createdAt: .distantPast)
        let access = AccessPolicy(grants: [Self.grant(.systemAdministrator, space: nil)], roles: Role.builtIn)
        #expect(Caller(user: user, keyID: "k", keyName: "k", access: access).may(.spaceView, at: AccessScope(spaceID: "s")))
        user.isDisabled = true
        #expect(!Caller(user: user, keyID: "k", keyName: "k", access: access).may(.spaceView, at: AccessScope(spaceID: "s")))
    }
}
