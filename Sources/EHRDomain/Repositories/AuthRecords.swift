import Foundation

/// A stored refresh token. Only the SHA-256 of the token is kept; tokens of one sign-in share a family.
public struct RefreshTokenRecord: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var userID: UUID
    public var familyID: UUID
    public var tokenHash: String
    /// The role the family was issued for; a changed role ends the family.
    public var role: Role
    public var issuedAt: Date
    public var expiresAt: Date
    /// Set when this token was exchanged for a new one; presenting it again is reuse.
    public var rotatedAt: Date?
    public var revokedAt: Date?

    public init(
        id: UUID = UUID(), tenantID: UUID, userID: UUID, familyID: UUID, tokenHash: String, role: Role, issuedAt: Date, expiresAt: Date, rotatedAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.userID = userID
        self.familyID = familyID
        self.tokenHash = tokenHash
        self.role = role
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.rotatedAt = rotatedAt
        self.revokedAt = revokedAt
    }
}

/// A one-time invitation to set a password. Only the SHA-256 of the token is kept.
public struct InvitationRecord: Sendable, Hashable {
    public static let lifetime: TimeInterval = 7 * 24 * 3600

    public var id: UUID
    public var tenantID: UUID
    public var userID: UUID
    public var tokenHash: String
    public var expiresAt: Date
    public var usedAt: Date?

    public init(id: UUID = UUID(), tenantID: UUID, userID: UUID, tokenHash: String, expiresAt: Date, usedAt: Date? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.userID = userID
        self.tokenHash = tokenHash
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// A throttle key's attempts in its current window.
public struct SignInWindow: Sendable, Hashable {
    public var attempts: Int
    public var windowStart: Date

    public init(attempts: Int, windowStart: Date) {
        self.attempts = attempts
        self.windowStart = windowStart
    }
}
