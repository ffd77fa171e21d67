import BerthDomain
import BerthStore
import Foundation
import HTTPTypes
import Testing

@testable import BerthServer

/// Every route of `openapi.yaml` called by a user holding each built-in role (System administrator
/// in every space; the others in the space `default`), against the table below — written by hand,
/// not derived from the server's own rules, so that a change of either is a failing test.
@Suite("Built-in roles × routes")
struct RoleMatrixTests {
    /// Who may call each operation: SA System administrator, SM Space manager, PL Project lead,
    /// D Deployer, V Viewer. Any other answer than 403 counts as allowed (the records named do not
    /// exist: allowed callers get 404 or 400, never a change).
    static let expected: [String: String] = [
        // The caller's own: everyone.
        "listSpaces": "SA SM PL D V", "getWhoAmI": "SA SM PL D V", "listRoles": "SA SM PL D V",
        "listTasks": "SA SM PL D V", "getTask": "SA SM PL D V", "getTaskLog": "SA SM PL D V",
        "cancelTask": "SA SM PL D V", "listApiKeys": "SA SM PL D V", "createApiKey": "SA SM PL D V",
        "revokeApiKey": "SA SM PL D V", "getOidcProvider": "SA SM PL D V", "createSession": "SA SM PL D V",
        "setUserPassword": "SA SM PL D V", "streamTaskLog": "SA SM PL D V", "approveTask": "SA SM PL D V",
        "rejectTask": "SA SM PL D V",
        // On a user that does not exist: the 404 comes before the check of who the link is for.
        "createLoginLink": "SA SM PL D V",
        // The server: System administrators only.
        "createSpace": "SA", "listNodes": "SA", "drainNode": "SA", "undrainNode": "SA", "listOidcKeys": "SA",
        "rotateOidcKey": "SA", "revokeOidcKey": "SA", "listUsers": "SA", "createUser": "SA", "getUser": "SA",
        "updateUser": "SA", "listTeams": "SA", "createTeam": "SA", "getTeam": "SA", "addTeamMember": "SA",
        "removeTeamMember": "SA", "grantRole": "SA", "revokeGrant": "SA", "createRole": "SA", "listAuditEvents": "SA",
        "verifyAudit": "SA",
        // Seeing the space.
        "listEnvironments": "SA SM PL D V", "getEnvironment": "SA SM PL D V", "listTargets": "SA SM PL D V",
        "getTarget": "SA SM PL D V", "listWorkerPools": "SA SM PL D V", "getWorkerPool": "SA SM PL D V",
        "listWorkers": "SA SM PL D V", "getWorker": "SA SM PL D V",
        // Changing the space.
        "createEnvironment": "SA SM", "updateEnvironment": "SA SM", "deleteEnvironment": "SA SM",
        "listLifecycles": "SA SM PL D V", "getLifecycle": "SA SM PL D V", "createLifecycle": "SA SM", "updateLifecycle": "SA SM",
        "createTarget": "SA SM", "updateTarget": "SA SM", "deleteTarget": "SA SM", "checkTargetHealth": "SA SM",
        "checkAllTargetsHealth": "SA SM", "createWorkerPool": "SA SM", "deleteWorkerPool": "SA SM",
        "createRegistrationToken": "SA SM", "revokeRegistrationToken": "SA SM", "deleteWorker": "SA SM",
        // Accounts: seen by all but Deployers, changed by managers.
        "listAccounts": "SA SM PL V", "getAccount": "SA SM PL V", "getAccountTrustPolicy": "SA SM PL V",
        "createAccount": "SA SM", "updateAccount": "SA SM", "deleteAccount": "SA SM", "testAccount": "SA SM",
        // Projects.
        "listProjects": "SA SM PL D V", "getProject": "SA SM PL D V", "listVariables": "SA SM PL D V",
        "listReleases": "SA SM PL D V", "getRelease": "SA SM PL D V", "listDeployments": "SA SM PL D V",
        "getDeployment": "SA SM PL D V", "createProject": "SA SM PL", "applyProject": "SA SM PL",
        "deleteProject": "SA SM PL", "setVariable": "SA SM PL", "createRelease": "SA SM PL D",
        "createDeployment": "SA SM PL D", "redeployDeployment": "SA SM PL D", "verifyRelease": "SA SM PL D",
        "diffRelease": "SA SM PL D",
    ]

    @Test("Each built-in role gets exactly the routes the table gives it; every route is in the table")
    func matrix() async throws {
        try await TestServer.with { server in
            let store = server.server.store
            let space = try await store.space(Space.defaultName)
            var keys: [String: String] = [:]
            for (short, role, spaceID) in [
                ("SA", Role.systemAdministrator, nil), ("SM", Role.spaceManager, space.id), ("PL", Role.projectLead, space.id),
                ("D", Role.deployer, space.id), ("V", Role.viewer, space.id),
            ] as [(String, Role, String?)] {
                keys[short] = try await AccessControlTests.user(
                    server, short.lowercased() + "-user", grants: [AccessGrant(teamID: "", roleID: role.id, spaceID: spaceID)])
            }
            let operations = try APIDescription.load().operations
            #expect(Set(operations.map(\.operationID)) == Set(Self.expected.keys))
            for operation in operations {
                let allowed = Set((Self.expected[operation.operationID] ?? "").split(separator: " ").map(String.init))
                let path =
                    "/api/"
                    + operation.segments.map {
                        APIDescription.Operation.isParameter($0) ? ($0 == "{space}" ? "default" : "x") : $0
                    }
                    .joined(separator: "/")
                for (role, key) in keys.sorted(by: { $0.key < $1.key }) {
                    let reply = try await server.request(
                        operation.method, path, text: operation.body == nil ? nil : "{}", key: .some(key))
                    let refused = reply.status == .forbidden
                    #expect(
                        refused != allowed.contains(role),
                        "\(operation.operationID) as \(role): \(reply.status.code) \(reply.text.prefix(300))")
                }
            }
        }
    }
}
