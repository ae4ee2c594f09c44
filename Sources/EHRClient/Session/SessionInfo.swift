import Foundation

/// The signed-in user and their tokens, as kept in the ``SecureStore``.
public struct SessionInfo: Codable, Sendable, Equatable {
    public var serverURL: URL
    public var tenant: String
    public var tenantID: String
    public var userID: String
    public var role: String
    public var email: String
    public var displayName: String
    /// For a client account: their patient record.
    public var patientID: String?
    var accessToken: String
    var refreshToken: String
    public var accessTokenExpiresAt: Date

    /// The chat stub is the client's DM with their therapist: only client accounts have it.
    public var hasTherapistChat: Bool { role == "client" }
}
