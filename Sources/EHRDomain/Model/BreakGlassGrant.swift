import Foundation

/// Emergency access to one note's content for someone who may not normally read it, for a limited time,
/// with the reason they gave. Every grant is audited and shown in the patient's access log.
public struct BreakGlassGrant: Sendable, Hashable {
    /// How long a grant lasts.
    public static let lifetime: TimeInterval = 60 * 60
    /// The shortest reason accepted.
    public static let minimumReasonLength = 10

    public var id: UUID
    public var tenantID: UUID
    public var userID: UUID
    public var noteID: UUID
    public var patientID: UUID
    public var reason: String
    public var grantedAt: Date
    public var expiresAt: Date

    public init(
        id: UUID = UUID(), tenantID: UUID, userID: UUID, noteID: UUID, patientID: UUID, reason: String, grantedAt: Date,
        expiresAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.userID = userID
        self.noteID = noteID
        self.patientID = patientID
        self.reason = reason
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt ?? grantedAt.addingTimeInterval(Self.lifetime)
    }
}
