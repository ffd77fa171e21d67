import BerthDomain
import Foundation

/// Who asks, and from where: what every use case is given.
public struct Requester: Sendable {
    public var caller: Caller
    /// The client's IP address, when the request came over a connection that has one.
    public var address: String?

    public init(caller: Caller, address: String? = nil) {
        self.caller = caller
        self.address = address
    }

    public var user: User { caller.user }

    public func may(_ permission: Permission, at scope: AccessScope) -> Bool {
        caller.may(permission, at: scope)
    }

    /// - Throws: 403 naming the caller, the permission and `place` unless the caller holds it.
    public func require(_ permission: Permission, at scope: AccessScope, for place: String) throws(BerthError) {
        guard caller.may(permission, at: scope) else { throw forbidden(permission, place) }
    }

    public func require(_ permission: Permission, in space: Space) throws(BerthError) {
        try require(permission, at: AccessScope(spaceID: space.id), for: "the space '\(space.name)'")
    }

    public func require(_ permission: Permission, for project: Project) throws(BerthError) {
        try require(
            permission, at: AccessScope(spaceID: project.spaceID, projectID: project.id), for: "the project '\(project.name)'")
    }

    public func requireServer(_ permission: Permission, for place: String = "the server") throws(BerthError) {
        try require(permission, at: .server, for: place)
    }

    public func forbidden(_ permission: Permission, _ place: String) -> BerthError {
        BerthError(
            .forbidden,
            "The user '\(caller.user.username)' (key '\(caller.keyName)') may not do this: it needs \(permission.rawValue) for \(place), which none of their teams' roles gives."
        )
    }
}
