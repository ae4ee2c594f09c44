import Foundation

/// A therapist's professional profile. Its id is the therapist's user id.
public struct Provider: Sendable, Hashable {
    public var user: User
    public var licenseNumber: String
    public var licenseState: String
    public var credentials: String
    public var specialties: [String]
    public var updatedAt: Date

    public var id: UUID { user.id }
    public var tenantID: UUID { user.tenantID }

    public init(user: User, licenseNumber: String, licenseState: String, credentials: String, specialties: [String], updatedAt: Date = Date()) {
        self.user = user
        self.licenseNumber = licenseNumber
        self.licenseState = licenseState
        self.credentials = credentials
        self.specialties = specialties
        self.updatedAt = updatedAt
    }
}
