import EHRDomain
import Foundation
import Testing

/// One practice (tenant `A`) with two therapists, two patients and their portal clients,
/// plus a second practice (tenant `B`) whose people must never reach tenant A's records.
enum World {
    static let tenant = UUID()
    static let otherTenant = UUID()

    static let admin = UUID()
    static let therapist = UUID()  // assigned to `patient`
    static let otherTherapist = UUID()  // assigned to `otherPatient`
    static let client = UUID()  // portal account of `patient`
    static let otherClient = UUID()  // portal account of `otherPatient`

    static let dateOfBirth = CalendarDate(year: 1990, month: 5, day: 17)!

    static let patient = Patient(
        tenantID: tenant, assignedTherapistID: therapist, userID: client,
        firstName: "Ada", lastName: "Lane", dateOfBirth: dateOfBirth)
    static let otherPatient = Patient(
        tenantID: tenant, assignedTherapistID: otherTherapist, userID: otherClient,
        firstName: "Ben", lastName: "Moss", dateOfBirth: dateOfBirth)
    static let patientWithoutPortal = Patient(
        tenantID: tenant, assignedTherapistID: therapist, userID: nil,
        firstName: "Cy", lastName: "Nash", dateOfBirth: dateOfBirth)

    static func user(_ id: UUID, _ role: Role) -> User {
        User(id: id, tenantID: tenant, email: "\(role.rawValue)@practice.test", displayName: role.rawValue, role: role)
    }

    static func provider(_ id: UUID) -> Provider {
        Provider(user: user(id, .therapist), licenseNumber: "LPC-1", licenseState: "NY", credentials: "LPC", specialties: [])
    }

    static func appointment(with therapistID: UUID = therapist, for patient: Patient = patient) -> Appointment {
        Appointment(
            tenantID: tenant, patientID: patient.id, therapistID: therapistID,
            startsAt: t0, endsAt: t0.addingTimeInterval(3600), timeZone: "America/New_York", kind: .televisit)
    }

    static func note(_ status: NoteStatus = .draft, by author: UUID = therapist, about patient: Patient = patient) -> ClinicalNote {
        ClinicalNote(
            tenantID: tenant, patientID: patient.id, authorID: author, type: .progress,
            sections: ["narrative": "Client reports better sleep."], status: status)
    }

    static let t0 = Date(timeIntervalSince1970: 1_750_000_000)
}

/// The callers of the access table. Callers of tenant B reuse the user ids of tenant A's
/// admin, assigned therapist and client, so only the tenant check can turn them away.
enum Caller: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case admin, therapist, otherTherapist, client, otherClient
    case foreignAdmin, foreignTherapist, foreignClient

    var principal: Principal {
        switch self {
        case .admin: Principal(userID: World.admin, tenantID: World.tenant, role: .admin)
        case .therapist: Principal(userID: World.therapist, tenantID: World.tenant, role: .therapist)
        case .otherTherapist: Principal(userID: World.otherTherapist, tenantID: World.tenant, role: .therapist)
        case .client: Principal(userID: World.client, tenantID: World.tenant, role: .client)
        case .otherClient: Principal(userID: World.otherClient, tenantID: World.tenant, role: .client)
        case .foreignAdmin: Principal(userID: World.admin, tenantID: World.otherTenant, role: .admin)
        case .foreignTherapist: Principal(userID: World.therapist, tenantID: World.otherTenant, role: .therapist)
        case .foreignClient: Principal(userID: World.client, tenantID: World.otherTenant, role: .client)
        }
    }

    /// For client callers, the therapist assigned to their patient record (what the server would look up).
    var clientsTherapistID: UUID? {
        switch self {
        case .client, .foreignClient: World.therapist
        case .otherClient: World.otherTherapist
        default: nil
        }
    }

    var testDescription: String { rawValue }
}
