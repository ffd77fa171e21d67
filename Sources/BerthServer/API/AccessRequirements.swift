import BerthDomain
import BerthUseCases
import HTTPTypes
import Hummingbird

/// What each operation of `openapi.yaml` needs of its caller at least — the route's floor,
/// checked for every request by ``AuthorizationMiddleware`` before its body is even read (so that
/// a caller without the permission learns nothing from validation errors, and the target-list
/// fast path, which reads no caller, is covered). An operation missing from the table is refused
/// (deny by default), and a test walks the document to keep the two together. The decision for
/// the record acted on — this project, this environment, what a listing shows — is the use case's
/// (``UseCases``), which every handler calls.
enum AccessRequirement: Sendable, Hashable {
    /// Anyone, without a key: logging in.
    case anonymous
    /// Any authenticated caller (what the operation shows depends on who asks).
    case caller
    /// A permission of the whole server.
    case server(Permission)
    /// A permission in the space of the path: held for the space itself, or (for project and
    /// environment permissions) for some of its projects or environments — the handler then
    /// checks the one it acts on.
    case space(Permission)

    static let byOperation: [String: AccessRequirement] = [
        "listSpaces": .caller,
        "createSpace": .server(.serverConfigure),
        "listEnvironments": .space(.spaceView),
        "createEnvironment": .space(.environmentEdit),
        "getEnvironment": .space(.spaceView),
        "updateEnvironment": .space(.environmentEdit),
        "deleteEnvironment": .space(.environmentEdit),
        "listAccounts": .space(.accountView),
        "createAccount": .space(.accountEdit),
        "getAccount": .space(.accountView),
        "updateAccount": .space(.accountEdit),
        "deleteAccount": .space(.accountEdit),
        "testAccount": .space(.accountEdit),
        "getAccountTrustPolicy": .space(.accountView),
        "listTargets": .space(.spaceView),
        "createTarget": .space(.targetEdit),
        "checkAllTargetsHealth": .space(.targetHealthCheck),
        "getTarget": .space(.spaceView),
        "updateTarget": .space(.targetEdit),
        "deleteTarget": .space(.targetEdit),
        "checkTargetHealth": .space(.targetHealthCheck),
        "listWorkerPools": .space(.spaceView),
        "createWorkerPool": .space(.workerEdit),
        "getWorkerPool": .space(.spaceView),
        "deleteWorkerPool": .space(.workerEdit),
        "createRegistrationToken": .space(.workerEdit),
        "revokeRegistrationToken": .space(.workerEdit),
        "listWorkers": .space(.spaceView),
        "getWorker": .space(.spaceView),
        "deleteWorker": .space(.workerEdit),
        "listLifecycles": .space(.spaceView),
        "getLifecycle": .space(.spaceView),
        "createLifecycle": .space(.environmentEdit),
        "updateLifecycle": .space(.environmentEdit),
        "listProjects": .space(.projectView),
        "createProject": .space(.projectEdit),
        "getProject": .space(.projectView),
        "applyProject": .space(.projectEdit),
        "deleteProject": .space(.projectEdit),
        "listVariables": .space(.projectView),
        "setVariable": .space(.variableEdit),
        "listReleases": .space(.projectView),
        "createRelease": .space(.releaseCreate),
        "getRelease": .space(.projectView),
        "listDeployments": .space(.projectView),
        "createDeployment": .space(.deploymentCreate),
        "redeployDeployment": .space(.deploymentCreate),
        "verifyRelease": .space(.deploymentCreate),
        "diffRelease": .space(.deploymentCreate),
        "getDeployment": .space(.projectView),
        "listNodes": .server(.serverConfigure),
        "drainNode": .server(.serverConfigure),
        "undrainNode": .server(.serverConfigure),
        // Tasks name no space in their path: their handlers check the task's space.
        "listTasks": .caller,
        "getTask": .caller,
        "getTaskLog": .caller,
        "streamTaskLog": .caller,
        "cancelTask": .caller,
        // The step names who may answer (checked in the use case).
        "approveTask": .caller,
        "rejectTask": .caller,
        // One's own keys; others' need ApiKeyManage (checked in the handlers).
        "listApiKeys": .caller,
        "createApiKey": .caller,
        "revokeApiKey": .caller,
        "getWhoAmI": .caller,
        "listAuditEvents": .server(.auditView),
        "verifyAudit": .server(.auditView),
        "createSession": .anonymous,
        // One's own password; another's with UserManage (checked in the handler).
        "setUserPassword": .caller,
        // One's own link; another's with UserManage (checked in the use case).
        "createLoginLink": .caller,
        "listUsers": .server(.userManage),
        "createUser": .server(.userManage),
        "getUser": .server(.userManage),
        "updateUser": .server(.userManage),
        "listTeams": .server(.teamManage),
        "createTeam": .server(.teamManage),
        "getTeam": .server(.teamManage),
        "addTeamMember": .server(.teamManage),
        "removeTeamMember": .server(.teamManage),
        "grantRole": .server(.teamManage),
        "revokeGrant": .server(.teamManage),
        "listRoles": .caller,
        "createRole": .server(.teamManage),
        "getOidcProvider": .caller,
        "listOidcKeys": .server(.serverConfigure),
        "rotateOidcKey": .server(.serverConfigure),
        "revokeOidcKey": .server(.serverConfigure),
    ]
}

/// Refuses a request whose caller lacks what its operation needs (``AccessRequirement``) with 403,
/// before anything else looks at it: the validation of its input, the target-list cache, the handler.
struct AuthorizationMiddleware: RouterMiddleware {
    typealias Context = BerthRequestContext
    let description: APIDescription
    let spaces: SpaceIDs

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // Paths outside the document (the document itself) need only a caller; unknown ones are 404.
        guard let (operation, parts) = description.operation(request.method, requestPath: request.uri.path) else {
            return try await next(request, context)
        }
        guard let requirement = AccessRequirement.byOperation[operation.operationID] else {
            throw BerthError(.forbidden, "The operation \(operation.operationID) has no access rule, so no one may call it.")
        }
        if requirement == .anonymous { return try await next(request, context) }
        guard let caller = context.identity else { throw BerthError(.unauthorized, "This route needs an API key.") }
        switch requirement {
        case .anonymous:
            break
        case .caller:
            break
        case .server(let permission):
            try Requester(caller: caller).requireServer(permission)
        case .space(let permission):
            let reference = operation.pathValues(parts).first { $0.name == "space" }?.value ?? ""
            // An unknown space is the handler's 404 to give, to those who may see spaces at all.
            let spaceID = try await spaces.id(of: reference) ?? reference
            let held =
                switch permission.level {
                case .project, .environment: caller.permissions(inSpace: spaceID).contains(permission)
                case .server, .space: caller.may(permission, at: AccessScope(spaceID: spaceID))
                }
            guard held, !caller.user.isDisabled else {
                throw Requester(caller: caller).forbidden(permission, "the space '\(reference)'")
            }
        }
        return try await next(request, context)
    }
}

/// The request's caller, for the generated handlers (which see only their input).
enum Access {
    /// - Throws: 401 when there is none (a route outside authentication).
    static func caller() throws -> Caller {
        guard let caller = RequestCaller.current else {
            throw BerthError(.unauthorized, "This route needs an API key.")
        }
        return caller
    }
}
