import Foundation

/// The two seats of a televisit room. A room has exactly these: the appointment's therapist (the host, who admits)
/// and the appointment's client (who waits until admitted).
public enum TelevisitRole: String, Sendable, Codable, CaseIterable {
    case therapist
    case client

    /// The seat `principal` takes in `appointment`'s room, or nil when they have none (admins, other therapists,
    /// other clients, other practices).
    public static func seat(of principal: Principal, in appointment: Appointment, patient: Patient) -> TelevisitRole? {
        guard AccessPolicy.canStartTelevisit(principal, appointment, patient: patient) else { return nil }
        return principal.role == .therapist ? .therapist : .client
    }

    public var other: TelevisitRole { self == .therapist ? .client : .therapist }
}

/// A participant's place in a televisit room, held by one socket (`connectionID`) until `leaseUntil` unless renewed.
public struct TelevisitSeat: Sendable, Hashable {
    public var tenantID: UUID
    public var roomID: String
    public var role: TelevisitRole
    public var appointmentID: UUID
    public var userID: UUID
    public var connectionID: UUID
    /// The therapist's seat is always admitted; the client's once the therapist lets them in from the waiting room.
    public var admitted: Bool
    public var joinedAt: Date
    public var leaseUntil: Date

    public init(
        tenantID: UUID, roomID: String, role: TelevisitRole, appointmentID: UUID, userID: UUID, connectionID: UUID, admitted: Bool, joinedAt: Date,
        leaseUntil: Date
    ) {
        self.tenantID = tenantID
        self.roomID = roomID
        self.role = role
        self.appointmentID = appointmentID
        self.userID = userID
        self.connectionID = connectionID
        self.admitted = admitted
        self.joinedAt = joinedAt
        self.leaseUntil = leaseUntil
    }
}
