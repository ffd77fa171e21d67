import Foundation

/// An isolation boundary; `default` always exists.
public struct Space: Sendable, Hashable, Codable {
    public static let defaultName = "default"

    public var id: String
    public var name: String
    /// Derived from the name, never stored apart from it (the store keeps a copy for unique lookups).
    public var slug: String { Slug.make(name) }
    public var createdAt: Date

    public init(id: String = RecordID.make("space"), name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}
