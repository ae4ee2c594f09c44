import Foundation

/// A sign-in account within one practice.
public struct User: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    /// Stored lower-cased; unique within the tenant.
    public var email: String
    public var displayName: String
    public var role: Role
    public var active: Bool
    /// Nil until the user accepts their invitation and sets a password.
    public var passwordHash: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), tenantID: UUID, email: String, displayName: String, role: Role,
        active: Bool = true, passwordHash: String? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.id = id
        self.tenantID = tenantID
        self.email = email
        self.displayName = displayName
        self.role = role
        self.active = active
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
