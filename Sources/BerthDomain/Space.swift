import Foundation

/// An isolation boundary; `default` always exists.
public struct Space: Sendable, Hashable, Codable {
    public static let defaultName = "default"

    public var id: String
    public var name: String
    public var slug: String
    public var createdAt: Date

    public init(id: String = RecordID.make("space"), name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.slug = Slug.make(name)
        self.createdAt = createdAt
    }
}

/// An ordered stage such as Development, Staging or Production.
public struct Environment: Sendable, Hashable, Codable {
    public var id: String
    public var spaceID: String
    public var name: String
    public var slug: String
    public var sortOrder: Int
    public var createdAt: Date

    public init(id: String = RecordID.make("env"), spaceID: String, name: String, sortOrder: Int, createdAt: Date) {
        self.id = id
        self.spaceID = spaceID
        self.name = name
        self.slug = Slug.make(name)
        self.sortOrder = sortOrder
        self.createdAt = createdAt
    }
}

/// Where steps and health checks run. Every space has a default pool, served by the built-in worker.
public struct WorkerPool: Sendable, Hashable, Codable {
    public static let defaultName = "Default Worker Pool"

    public var id: String
    public var spaceID: String
    public var name: String
    public var slug: String
    public var isDefault: Bool
    public var createdAt: Date

    public init(id: String = RecordID.make("pool"), spaceID: String, name: String, isDefault: Bool, createdAt: Date) {
        self.id = id
        self.spaceID = spaceID
        self.name = name
        self.slug = Slug.make(name)
        self.isDefault = isDefault
        self.createdAt = createdAt
    }
}
