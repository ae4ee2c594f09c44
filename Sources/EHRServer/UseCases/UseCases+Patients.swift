import EHRDomain
import Foundation

/// A new patient as entered.
struct PatientInput: Sendable {
    var firstName, lastName, dateOfBirth: String?
    var email, phone: String?
    var address: AddressInput?
    var emergencyContact: ContactInput?
    var assignedTherapistID: String?
    var portalAccess = false
}

/// Changes to a patient's record; nil leaves a field as it is.
struct PatientChanges: Sendable {
    var firstName, lastName, dateOfBirth: String?
    var email, phone: String?
    var address: AddressInput?
    var emergencyContact: ContactInput?
    var assignedTherapistID: String?

    /// Names of the fields given, for the audit event.
    var names: [String] {
        [
            ("firstName", firstName != nil), ("lastName", lastName != nil), ("dateOfBirth", dateOfBirth != nil), ("email", email != nil),
            ("phone", phone != nil), ("address", address != nil), ("emergencyContact", emergencyContact != nil),
            ("assignedTherapistId", assignedTherapistID != nil),
        ].filter(\.1).map(\.0)
    }
}

/// Exact searches on encrypted fields, as entered (checked here: each needs its partner or a usable value).
struct PatientSearch: Sendable {
    var status: PatientStatus?
    var assignedTherapistID: UUID?
    var email, phone, lastName, dateOfBirth: String?
}

extension UseCases {
    func patients(_ principal: Principal, search: PatientSearch, page: PageRequest) async throws -> Page<Patient> {
        var v = Validator()
        if let email = search.email, email.trimmingCharacters(in: .whitespaces).isEmpty { v.add("email", "must not be empty") }
        if let phone = search.phone, !phone.contains(where: \.isNumber) { v.add("phone", "must contain digits") }
        var nameAndBirth: (String, CalendarDate)?
        switch (search.lastName, search.dateOfBirth) {
        case (nil, nil): break
        case (.some, nil): v.add("dateOfBirth", "is required with lastName")
        case (nil, .some): v.add("lastName", "is required with dateOfBirth")
        case (.some(let last), .some(let dob)):
            if let date = CalendarDate(iso: dob) { nameAndBirth = (last, date) } else { v.add("dateOfBirth", "must be a date in the form YYYY-MM-DD") }
        }
        if !v.errors.isEmpty { throw ProblemError.badRequest("Invalid query parameters.", errors: v.errors) }
        let filter = PatientFilter(
            status: search.status, assignedTherapistID: search.assignedTherapistID, email: search.email, phone: search.phone,
            lastNameAndBirthDate: nameAndBirth)
        let result = try await store.list(scope: AccessPolicy.patientScope(principal), filter: filter, page: page)
        audit?.listed(patients: result.items.map(\.id))
        return result
    }

    /// The patient, if the caller may see it; otherwise 404 exactly as if it did not exist.
    func patient(_ principal: Principal, id: UUID) async throws -> Patient {
        guard let patient = try await store.find(id: id, tenantID: principal.tenantID) as Patient? else { throw DomainError.notFound }
        try checkVisible(principal, patient.reference)
        return patient
    }

    /// A patient named in a request body, as its parent record: unknown, foreign and invisible ids are all 404,
    /// exactly like reading it; a discharged patient takes no new work (422).
    func referencedPatient(_ principal: Principal, id: UUID) async throws -> Patient {
        let patient = try await patient(principal, id: id)
        try checkTakesNewWork(patient.reference)
        return patient
    }

    /// ``referencedPatient(_:id:)`` for work that needs only the access facts: nothing of the record is decrypted.
    func referencedPatientReference(_ principal: Principal, id: UUID) async throws -> PatientReference {
        guard let patient = try await store.findReference(id: id, tenantID: principal.tenantID) else { throw DomainError.notFound }
        try checkVisible(principal, patient)
        try checkTakesNewWork(patient)
        return patient
    }

    /// The patient's records are the caller's to see (else 404, recorded as denied); the request's event names them.
    private func checkVisible(_ principal: Principal, _ patient: PatientReference) throws {
        audit?.patient(patient.id)
        guard AccessPolicy.canViewPatient(principal, patient) else { throw DomainError.forbidden }
    }

    private func checkTakesNewWork(_ patient: PatientReference) throws {
        if patient.status == .discharged { throw DomainError.invalid("patientId", "the patient has been discharged") }
    }

    /// Creates the patient and, with portal access, their client account and its invitation (the token is returned once).
    func createPatient(_ principal: Principal, _ input: PatientInput) async throws -> (Patient, invitation: (token: String, expiresAt: Date)?) {
        guard AccessPolicy.canCreatePatient(principal) else { throw DomainError.forbidden }
        var v = Validator()
        let first = v.text(input.firstName, "firstName", max: 100)
        let last = v.text(input.lastName, "lastName", max: 100)
        let dob = v.dateOfBirth(input.dateOfBirth)
        let email = v.email(input.email, "email", required: input.portalAccess)
        let phone = v.phone(input.phone, "phone")
        let address = input.address.flatMap { v.address($0) }
        let contact = input.emergencyContact.flatMap { v.emergencyContact($0) }
        let requested = v.uuid(input.assignedTherapistID, "assignedTherapistId")
        if input.assignedTherapistID?.isEmpty ?? true { v.add("assignedTherapistId", "is required") }
        let therapistID = try await activeTherapist(&v, requested, field: "assignedTherapistId", tenantID: principal.tenantID)
        try v.check()
        let now = self.now
        var patient = Patient(
            tenantID: principal.tenantID, assignedTherapistID: therapistID!, firstName: first!, lastName: last!, dateOfBirth: dob!,
            email: email, phone: phone, address: address, emergencyContact: contact, createdAt: now, updatedAt: now)
        var portalUser: User?
        var invitation: (token: String, record: InvitationRecord)?
        if input.portalAccess, let email {
            let user = User(tenantID: principal.tenantID, email: email, displayName: "\(first!) \(last!)", role: .client, createdAt: now, updatedAt: now)
            patient.userID = user.id
            portalUser = user
            invitation = services.auth.makeInvitation(for: user, now: now)
        }
        audit?.resource(patient.id)
        audit?.patient(patient.id)
        let given: [(String, Bool)] = [
            ("firstName", input.firstName != nil), ("lastName", input.lastName != nil), ("dateOfBirth", input.dateOfBirth != nil),
            ("email", input.email != nil), ("phone", input.phone != nil), ("address", input.address != nil),
            ("emergencyContact", input.emergencyContact != nil), ("assignedTherapistId", input.assignedTherapistID != nil),
            ("portalAccess", input.portalAccess),
        ]
        audit?.changed(given.filter(\.1).map(\.0))
        try await store.create(patient, portalUser: portalUser, invitation: invitation?.record)
        return (patient, invitation.map { ($0.token, $0.record.expiresAt) })
    }

    func updatePatient(_ principal: Principal, id: UUID, _ changes: PatientChanges) async throws -> Patient {
        var patient = try await patient(principal, id: id)
        guard AccessPolicy.canUpdatePatient(principal, patient) else { throw DomainError.forbidden }
        var v = Validator()
        if let value = changes.firstName { patient.firstName = v.text(value, "firstName", max: 100) ?? patient.firstName }
        if let value = changes.lastName { patient.lastName = v.text(value, "lastName", max: 100) ?? patient.lastName }
        if let value = changes.dateOfBirth { patient.dateOfBirth = v.dateOfBirth(value) ?? patient.dateOfBirth }
        if let value = changes.email { patient.email = v.email(value, "email") }
        if let value = changes.phone { patient.phone = v.phone(value, "phone") }
        if let value = changes.address { patient.address = v.address(value) }
        if let value = changes.emergencyContact { patient.emergencyContact = v.emergencyContact(value) }
        if let value = changes.assignedTherapistID {
            let therapistID = v.uuid(value, "assignedTherapistId")
            patient.assignedTherapistID =
                try await activeTherapist(&v, therapistID, field: "assignedTherapistId", tenantID: principal.tenantID) ?? patient.assignedTherapistID
        }
        try v.check()
        patient.updatedAt = now
        audit?.changed(changes.names)
        try await store.update(patient)
        return patient
    }

    func dischargePatient(_ principal: Principal, id: UUID, reason: String?) async throws -> Patient {
        var patient = try await patient(principal, id: id)
        guard AccessPolicy.canDischargePatient(principal, patient) else { throw DomainError.forbidden }
        var v = Validator()
        let reason = v.text(reason, "reason", max: 2000)
        try v.check()
        if patient.discharge(reason: reason!, at: now) {
            audit?.changed(["status", "dischargedAt", "dischargeReason"])
            try await store.update(patient)
        }
        return patient
    }

    /// An active therapist of this tenant named in `field`; otherwise a validation error naming the field
    /// (the same message whether the id is unknown or belongs to another practice).
    func activeTherapist(_ v: inout Validator, _ id: UUID?, field: String, tenantID: UUID) async throws -> UUID? {
        guard let id else { return nil }
        guard let provider = try await store.find(id: id, tenantID: tenantID) as Provider?, provider.user.active else {
            v.add(field, "is not an active therapist of this practice")
            return nil
        }
        return provider.id
    }
}
