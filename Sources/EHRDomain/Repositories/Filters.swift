import Foundation

/// Optional filters of the patient list.
public struct PatientFilter: Sendable, Equatable {
    public var status: PatientStatus?
    public var assignedTherapistID: UUID?
    /// Exact email (case and surrounding space ignored); searched through a blind index.
    public var email: String?
    /// Exact phone number (only the digits count); searched through a blind index.
    public var phone: String?
    /// Exact last name and date of birth together; searched through a blind index.
    public var lastNameAndBirthDate: (lastName: String, dateOfBirth: CalendarDate)?

    public init(
        status: PatientStatus? = nil, assignedTherapistID: UUID? = nil, email: String? = nil, phone: String? = nil,
        lastNameAndBirthDate: (lastName: String, dateOfBirth: CalendarDate)? = nil
    ) {
        self.status = status
        self.assignedTherapistID = assignedTherapistID
        self.email = email
        self.phone = phone
        self.lastNameAndBirthDate = lastNameAndBirthDate
    }

    public static func == (a: PatientFilter, b: PatientFilter) -> Bool {
        a.status == b.status && a.assignedTherapistID == b.assignedTherapistID && a.email == b.email && a.phone == b.phone
            && a.lastNameAndBirthDate?.lastName == b.lastNameAndBirthDate?.lastName
            && a.lastNameAndBirthDate?.dateOfBirth == b.lastNameAndBirthDate?.dateOfBirth
    }
}

/// Optional filters of the appointment list.
public struct AppointmentFilter: Sendable, Equatable {
    /// Appointments starting at or after this instant.
    public var from: Date?
    /// Appointments starting before this instant.
    public var to: Date?
    public var therapistID: UUID?
    public var patientID: UUID?
    public var status: AppointmentStatus?
    /// When set, only appointments that end after this instant and are not cancelled.
    public var upcomingAfter: Date?

    public init(
        from: Date? = nil, to: Date? = nil, therapistID: UUID? = nil, patientID: UUID? = nil, status: AppointmentStatus? = nil, upcomingAfter: Date? = nil
    ) {
        self.from = from
        self.to = to
        self.therapistID = therapistID
        self.patientID = patientID
        self.status = status
        self.upcomingAfter = upcomingAfter
    }
}

/// Optional filters of the note list.
public struct NoteFilter: Sendable, Equatable {
    public var patientID: UUID?
    public var status: NoteStatus?
    public var type: NoteType?

    public init(patientID: UUID? = nil, status: NoteStatus? = nil, type: NoteType? = nil) {
        self.patientID = patientID
        self.status = status
        self.type = type
    }
}
