import Foundation

/// A postal address.
public struct Address: Sendable, Hashable, Codable {
    public var line1: String
    public var line2: String?
    public var city: String
    public var state: String
    public var postalCode: String

    public init(line1: String, line2: String? = nil, city: String, state: String, postalCode: String) {
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.state = state
        self.postalCode = postalCode
    }
}

/// Who to call in an emergency.
public struct EmergencyContact: Sendable, Hashable, Codable {
    public var name: String
    public var phone: String
    public var relationship: String?

    public init(name: String, phone: String, relationship: String? = nil) {
        self.name = name
        self.phone = phone
        self.relationship = relationship
    }
}

/// A person in care at a practice.
public struct Patient: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var assignedTherapistID: UUID
    /// The client's portal account, when they have one.
    public var userID: UUID?
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: CalendarDate
    public var email: String?
    public var phone: String?
    public var address: Address?
    public var emergencyContact: EmergencyContact?
    public var status: PatientStatus
    public var dischargedAt: Date?
    public var dischargeReason: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), tenantID: UUID, assignedTherapistID: UUID, userID: UUID? = nil,
        firstName: String, lastName: String, dateOfBirth: CalendarDate, email: String? = nil, phone: String? = nil,
        address: Address? = nil, emergencyContact: EmergencyContact? = nil, status: PatientStatus = .active,
        dischargedAt: Date? = nil, dischargeReason: String? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.id = id
        self.tenantID = tenantID
        self.assignedTherapistID = assignedTherapistID
        self.userID = userID
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.email = email
        self.phone = phone
        self.address = address
        self.emergencyContact = emergencyContact
        self.status = status
        self.dischargedAt = dischargedAt
        self.dischargeReason = dischargeReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What an access decision about a patient's records needs to know of the patient, and none of their health
/// information: reading it decrypts nothing (a new note asks only this of its patient).
public struct PatientReference: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var assignedTherapistID: UUID
    /// The client's portal account, when they have one.
    public var userID: UUID?
    public var status: PatientStatus

    public init(id: UUID, tenantID: UUID, assignedTherapistID: UUID, userID: UUID?, status: PatientStatus) {
        self.id = id
        self.tenantID = tenantID
        self.assignedTherapistID = assignedTherapistID
        self.userID = userID
        self.status = status
    }
}

extension Patient {
    /// The patient as access decisions see them.
    public var reference: PatientReference {
        PatientReference(id: id, tenantID: tenantID, assignedTherapistID: assignedTherapistID, userID: userID, status: status)
    }
}
