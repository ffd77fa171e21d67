import Foundation

/// An ordered stage such as Development, Staging or Production.
public struct Environment: Sendable, Hashable, Codable {
    public var id: String
    public var spaceID: String
    public var name: String
    /// Derived from the name, never stored apart from it (the store keeps a copy for unique lookups).
    public var slug: String { Slug.make(name) }
    public var sortOrder: Int
    public var createdAt: Date

    public init(id: String = RecordID.make("env"), spaceID: String, name: String, sortOrder: Int, createdAt: Date) {
        self.id = id
        self.spaceID = spaceID
        self.name = name
        self.sortOrder = sortOrder
        self.createdAt = createdAt
    }
}
