import Foundation

/// A booked session between a patient and a therapist. Times are UTC instants;
/// `timeZone` is the IANA zone it was booked in, for display.
public struct Appointment: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var patientID: UUID
    public var therapistID: UUID
    public var startsAt: Date
    public var endsAt: Date
    public var timeZone: String
    public var status: AppointmentStatus
    public var kind: AppointmentKind
    public var reason: String?
    public var cancellationReason: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), tenantID: UUID, patientID: UUID, therapistID: UUID, startsAt: Date, endsAt: Date,
        timeZone: String, status: AppointmentStatus = .scheduled, kind: AppointmentKind, reason: String? = nil,
        cancellationReason: String? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.id = id
        self.tenantID = tenantID
        self.patientID = patientID
        self.therapistID = therapistID
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.status = status
        self.kind = kind
        self.reason = reason
        self.cancellationReason = cancellationReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
