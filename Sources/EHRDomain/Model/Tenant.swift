import Foundation

/// A practice. Every other record belongs to exactly one tenant.
public struct Tenant: Sendable, Hashable, Codable {
    public var id: UUID
    public var slug: String
    public var name: String
    public var createdAt: Date
    /// The IANA zone the practice works in: the web schedule's days and weeks are in it.
    public var timeZone: String

    public init(id: UUID = UUID(), slug: String, name: String, createdAt: Date = Date(), timeZone: String = "UTC") {
        self.id = id
        self.slug = slug
        self.name = name
        self.createdAt = createdAt
        self.timeZone = timeZone
    }
}
