import EHRDomain
import EHRSecurity
import Foundation
import SQLKit

/// A `patients` row. Every identifying column holds ciphertext; the `*_bidx` columns hold blind indexes.
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

    func patient(_ keys: TenantKeys) throws -> Patient {
        guard let status = PatientStatus(rawValue: status) else { throw StorageError.corrupt("patients.status") }
        let t = "patients"
        guard let dob = CalendarDate(iso: try keys.open(dateOfBirth, t, "date_of_birth", row: id)) else {
            throw StorageError.corrupt("patients.date_of_birth")
        }
        return Patient(
            id: id, tenantID: tenantId, assignedTherapistID: assignedTherapistId, userID: userId,
            firstName: try keys.open(firstName, t, "first_name", row: id), lastName: try keys.open(lastName, t, "last_name", row: id),
            dateOfBirth: dob, email: try keys.open(email, t, "email", row: id), phone: try keys.open(phone, t, "phone", row: id),
            address: try keys.open(Address.self, address, t, "address", row: id),
            emergencyContact: try keys.open(EmergencyContact.self, emergencyContact, t, "emergency_contact", row: id),
            status: status, dischargedAt: dischargedAt, dischargeReason: try keys.open(dischargeReason, t, "discharge_reason", row: id),
            createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// The sealed column values and blind indexes of a patient, as written.
struct SealedPatient {
    var firstName, lastName, dateOfBirth: String
    var email, phone, address, emergencyContact, dischargeReason: String?
    var emailIndex, phoneIndex: String?
    var nameBirthIndex: String
    var keyVersion: Int

    init(_ p: Patient, _ keys: TenantKeys) throws {
        let t = "patients"
        firstName = try keys.seal(p.firstName, t, "first_name", row: p.id)
        lastName = try keys.seal(p.lastName, t, "last_name", row: p.id)
        dateOfBirth = try keys.seal(p.dateOfBirth.description, t, "date_of_birth", row: p.id)
        email = try keys.seal(p.email, t, "email", row: p.id)
        phone = try keys.seal(p.phone, t, "phone", row: p.id)
        address = try keys.seal(codable: p.address, t, "address", row: p.id)
        emergencyContact = try keys.seal(codable: p.emergencyContact, t, "emergency_contact", row: p.id)
        dischargeReason = try keys.seal(p.dischargeReason, t, "discharge_reason", row: p.id)
        emailIndex = p.email.map { PatientSearchIndex.email($0, keys) }
        phoneIndex = p.phone.map { PatientSearchIndex.phone($0, keys) }
        nameBirthIndex = PatientSearchIndex.nameAndBirthDate(p.lastName, p.dateOfBirth, keys)
        keyVersion = keys.currentVersion
    }
}

/// Blind-index values for exact patient search. Keys differ per tenant and per column.
enum PatientSearchIndex {
    static func email(_ value: String, _ keys: TenantKeys) -> String { keys.index.email(value, column: "patients.email") }
    static func phone(_ value: String, _ keys: TenantKeys) -> String { keys.index.phone(value, column: "patients.phone") }
    static func nameAndBirthDate(_ lastName: String, _ dob: CalendarDate, _ keys: TenantKeys) -> String {
        keys.index.index(components: [BlindIndex.normalizeName(lastName), dob.description], column: "patients.last_name+date_of_birth")
    }
}

/// The columns of ``PatientReference``.
struct PatientReferenceRow: Decodable, Sendable {
    var id: UUID
    var tenantId: UUID
    var assignedTherapistId: UUID
    var userId: UUID?
    var status: String

    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case assignedTherapistId = "assigned_therapist_id"
        case userId = "user_id"
        case status
    }

    func reference() throws -> PatientReference {
        guard let status = PatientStatus(rawValue: status) else { throw StorageError.corrupt("patients.status") }
        return PatientReference(id: id, tenantID: tenantId, assignedTherapistID: assignedTherapistId, userID: userId, status: status)
    }
}

extension SQLStore: PatientRepository {
    public func find(id: UUID, tenantID: UUID) async throws -> Patient? {
        let prepared = try await PostgresFastRows.rows(FindPatient(tenantID: tenantID, id: id), on: database)
        let found =
            if let prepared {
                prepared.first
            } else {
                try await sql.raw("SELECT * FROM patients WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)")
                    .first(decoding: PatientRow.self, with: Self.decoder)
            }
        guard let row = found else { return nil }
        return try await opening(tenantID) { try row.patient($0) }
    }

    public func findReference(id: UUID, tenantID: UUID) async throws -> PatientReference? {
        let prepared = try await PostgresFastRows.rows(FindPatientReference(tenantID: tenantID, id: id), on: database)
        let found =
            if let prepared {
                prepared.first
            } else {
                try await sql.raw(
                    "SELECT id, tenant_id, assigned_therapist_id, user_id, status FROM patients WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)"
                ).first(decoding: PatientReferenceRow.self, with: Self.decoder)
            }
        return try found?.reference()
    }

    public func find(portalUserID: UUID, tenantID: UUID) async throws -> Patient? {
        guard
            let row = try await sql.raw("SELECT * FROM patients WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: portalUserID)")
                .first(decoding: PatientRow.self, with: Self.decoder)
        else { return nil }
        return try await opening(tenantID) { try row.patient($0) }
    }

    public func list(scope: PatientScope, filter: PatientFilter, page: PageRequest) async throws -> Page<Patient> {
        var query: SQLQueryString = "SELECT * FROM patients WHERE "
        let tenantID: UUID
        switch scope {
        case .tenant(let tenant):
            tenantID = tenant
            query += "tenant_id = \(bind: tenant)"
        case .assignedTo(let tenant, let therapistID):
            tenantID = tenant
            query += "tenant_id = \(bind: tenant) AND assigned_therapist_id = \(bind: therapistID)"
        case .portalUser(let tenant, let userID):
            tenantID = tenant
            query += "tenant_id = \(bind: tenant) AND user_id = \(bind: userID)"
        }
        if let status = filter.status { query += " AND status = \(bind: status.rawValue)" }
        if let therapist = filter.assignedTherapistID { query += " AND assigned_therapist_id = \(bind: therapist)" }
        if filter.email != nil || filter.phone != nil || filter.lastNameAndBirthDate != nil {
            let keys = try await vault.keys(for: tenantID)
            if let email = filter.email { query += " AND email_bidx = \(bind: PatientSearchIndex.email(email, keys))" }
            if let phone = filter.phone { query += " AND phone_bidx = \(bind: PatientSearchIndex.phone(phone, keys))" }
            if let (last, dob) = filter.lastNameAndBirthDate {
                query += " AND name_dob_bidx = \(bind: PatientSearchIndex.nameAndBirthDate(last, dob, keys))"
            }
        }
        query += after(page.after, column: "created_at") + " ORDER BY created_at, id"
        return try await self.page(
            query, limit: page.limit, tenantID: tenantID, map: { (row: PatientRow, keys) in try row.patient(keys) },
            key: { ($0.createdAt, $0.id) })
    }

    public func create(_ patient: Patient, portalUser: User?, invitation: InvitationRecord?) async throws {
        let keys = try await vault.keys(for: patient.tenantID)
        let s = try SealedPatient(patient, keys)
        let user = try portalUser.map { try SealedUser($0, keys) }
        try await write { db in
            if let portalUser, let user { try await Self.insertUser(portalUser, sealed: user, on: db) }
            try await db.raw(
                """
                INSERT INTO patients (id, tenant_id, assigned_therapist_id, user_id, first_name, last_name, date_of_birth, email, phone,
                    address, emergency_contact, status, discharged_at, discharge_reason, created_at, updated_at,
                    email_bidx, phone_bidx, name_dob_bidx, key_version)
                VALUES (\(bind: patient.id), \(bind: patient.tenantID), \(bind: patient.assignedTherapistID), \(bind: patient.userID),
                    \(bind: s.firstName), \(bind: s.lastName), \(bind: s.dateOfBirth), \(bind: s.email),
                    \(bind: s.phone), \(bind: s.address), \(bind: s.emergencyContact), \(bind: patient.status.rawValue),
                    \(bind: patient.dischargedAt.map(millisecondPrecision)), \(bind: s.dischargeReason),
                    \(bind: millisecondPrecision(patient.createdAt)), \(bind: millisecondPrecision(patient.updatedAt)),
                    \(bind: s.emailIndex), \(bind: s.phoneIndex), \(bind: s.nameBirthIndex), \(bind: s.keyVersion))
                """
            ).run()
            if let invitation { try await Self.insertInvitation(invitation, on: db) }
        }
    }

    public func update(_ patient: Patient) async throws {
        let s = try SealedPatient(patient, try await vault.keys(for: patient.tenantID))
        try await write { db in
            try await Self.updatePatient(patient, sealed: s, on: db)
        }
    }

    static func updatePatient(_ patient: Patient, sealed s: SealedPatient, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE patients SET assigned_therapist_id = \(bind: patient.assignedTherapistID), first_name = \(bind: s.firstName),
                last_name = \(bind: s.lastName), date_of_birth = \(bind: s.dateOfBirth), email = \(bind: s.email),
                phone = \(bind: s.phone), address = \(bind: s.address), emergency_contact = \(bind: s.emergencyContact),
                status = \(bind: patient.status.rawValue), discharged_at = \(bind: patient.dischargedAt.map(millisecondPrecision)),
                discharge_reason = \(bind: s.dischargeReason), updated_at = \(bind: millisecondPrecision(patient.updatedAt)),
                email_bidx = \(bind: s.emailIndex), phone_bidx = \(bind: s.phoneIndex), name_dob_bidx = \(bind: s.nameBirthIndex),
                key_version = \(bind: s.keyVersion)
            WHERE tenant_id = \(bind: patient.tenantID) AND id = \(bind: patient.id)
            """
        ).run()
    }
}
