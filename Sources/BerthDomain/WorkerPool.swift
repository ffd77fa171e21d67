import Foundation

/// Where steps and health checks run. Every space has a default pool, served by the built-in worker.
public struct WorkerPool: Sendable, Hashable, Codable {
    public static let defaultName = "Default Worker Pool"

    public var id: String
    public var spaceID: String
    public var name: String
    /// Derived from the name, never stored apart from it (the store keeps a copy for unique lookups).
    public var slug: String { Slug.make(name) }
    public var isDefault: Bool
    public var createdAt: Date

    public init(id: String = RecordID.make("pool"), spaceID: String, name: String, isDefault: Bool, createdAt: Date) {
        self.id = id
        self.spaceID = spaceID
        self.name = name
        self.isDefault = isDefault
        self.createdAt = createdAt
    }
}
