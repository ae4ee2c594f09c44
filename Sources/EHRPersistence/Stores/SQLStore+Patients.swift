import EHRDomain
import Foundation
import SQLKit

struct PatientRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var assignedTherapistId: UUID
    var userId: UUID?
    var firstName: String
    var lastName: String
    var dateOfBirth: String
    var email: String?
    var phone: String?
    var address: String?
    var emergencyContact: String?
    var status: String
    var dischargedAt: Date?
    var dischargeReason: String?
    var createdAt: Date
    var updatedAt: Date

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case assignedTherapistId = "assigned_therapist_id"
        case userId = "user_id"
        case firstName = "first_name"
        case lastName = "last_name"
        case dateOfBirth = "date_of_birth"
        case email
        case phone
        case address
        case emergencyContact = "emergency_contact"
        case status
        case dischargedAt = "discharged_at"
        case dischargeReason = "discharge_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func patient() throws -> Patient {
        guard let status = PatientStatus(rawValue: status) else { throw StorageError.corrupt("patients.status") }
        guard let dob = CalendarDate(iso: dateOfBirth) else { throw StorageError.corrupt("patients.date_of_birth") }
        return Patient(
            id: id, tenantID: tenantId, assignedTherapistID: assignedTherapistId, userID: userId, firstName: firstName,
            lastName: lastName, dateOfBirth: dob, email: email, phone: phone,
            address: try SQLStore.decodeJSON(Address.self, address),
            emergencyContact: try SQLStore.decodeJSON(EmergencyContact.self, emergencyContact),
            status: status, dischargedAt: dischargedAt, dischargeReason: dischargeReason, createdAt: createdAt, updatedAt: updatedAt)
    }
}

extension SQLStore: PatientRepository {
    public func find(id: UUID, tenantID: UUID) async throws -> Patient? {
        try await sql.raw("SELECT * FROM patients WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)")
            .first(decoding: PatientRow.self, with: Self.decoder)?.patient()
    }

    public func find(portalUserID: UUID, tenantID: UUID) async throws -> Patient? {
        try await sql.raw("SELECT * FROM patients WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: portalUserID)")
            .first(decoding: PatientRow.self, with: Self.decoder)?.patient()
    }

    public func list(scope: PatientScope, filter: PatientFilter, page: PageRequest) async throws -> Page<Patient> {
        var query: SQLQueryString = "SELECT * FROM patients WHERE "
        switch scope {
        case .tenant(let tenantID):
            query += "tenant_id = \(bind: tenantID)"
        case .assignedTo(let tenantID, let therapistID):
            query += "tenant_id = \(bind: tenantID) AND assigned_therapist_id = \(bind: therapistID)"
        case .portalUser(let tenantID, let userID):
            query += "tenant_id = \(bind: tenantID) AND user_id = \(bind: userID)"
        }
        if let status = filter.status { query += " AND status = \(bind: status.rawValue)" }
        if let therapist = filter.assignedTherapistID { query += " AND assigned_therapist_id = \(bind: therapist)" }
        query += after(page.after, column: "created_at") + " ORDER BY created_at, id"
        return try await Self.page(query, limit: page.limit, on: sql, map: { (row: PatientRow) in try row.patient() }, key: { ($0.createdAt, $0.id) })
    }

    public func create(_ patient: Patient, portalUser: User?, invitation: InvitationRecord?) async throws {
        let address = try Self.encodeJSON(patient.address)
        let contact = try Self.encodeJSON(patient.emergencyContact)
        try await database.transaction { db in
            if let portalUser { try await Self.insertUser(portalUser, on: db) }
            try await db.raw("""
                INSERT INTO patients (id, tenant_id, assigned_therapist_id, user_id, first_name, last_name, date_of_birth, email, phone,
                    address, emergency_contact, status, discharged_at, discharge_reason, created_at, updated_at)
                VALUES (\(bind: patient.id), \(bind: patient.tenantID), \(bind: patient.assignedTherapistID), \(bind: patient.userID),
                    \(bind: patient.firstName), \(bind: patient.lastName), \(bind: patient.dateOfBirth.description), \(bind: patient.email),
                    \(bind: patient.phone), \(bind: address), \(bind: contact), \(bind: patient.status.rawValue),
                    \(bind: patient.dischargedAt.map(millisecondPrecision)), \(bind: patient.dischargeReason),
                    \(bind: millisecondPrecision(patient.createdAt)), \(bind: millisecondPrecision(patient.updatedAt)))
                """).run()
            if let invitation { try await Self.insertInvitation(invitation, on: db) }
        }
    }

    public func update(_ patient: Patient) async throws {
        let address = try Self.encodeJSON(patient.address)
        let contact = try Self.encodeJSON(patient.emergencyContact)
        try await sql.raw("""
            UPDATE patients SET assigned_therapist_id = \(bind: patient.assignedTherapistID), first_name = \(bind: patient.firstName),
                last_name = \(bind: patient.lastName), date_of_birth = \(bind: patient.dateOfBirth.description), email = \(bind: patient.email),
                phone = \(bind: patient.phone), address = \(bind: address), emergency_contact = \(bind: contact),
                status = \(bind: patient.status.rawValue), discharged_at = \(bind: patient.dischargedAt.map(millisecondPrecision)),
                discharge_reason = \(bind: patient.dischargeReason), updated_at = \(bind: millisecondPrecision(patient.updatedAt))
            WHERE tenant_id = \(bind: patient.tenantID) AND id = \(bind: patient.id)
            """).run()
    }
}
