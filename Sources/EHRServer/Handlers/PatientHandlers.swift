import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listPatients(_ input: Operations.ListPatients.Input) async throws -> Operations.ListPatients.Output {
        let principal = try RequestScope.principal()
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .patients)
        let q = input.query
        var errors: [FieldError] = []
        if let email = q.email, email.trimmingCharacters(in: .whitespaces).isEmpty { errors.append(FieldError("email", "must not be empty")) }
        if let phone = q.phone, !phone.contains(where: \.isNumber) { errors.append(FieldError("phone", "must contain digits")) }
        var nameAndBirth: (String, CalendarDate)?
        switch (q.lastName, q.dateOfBirth) {
        case (nil, nil): break
        case (.some, nil): errors.append(FieldError("dateOfBirth", "is required with lastName"))
        case (nil, .some): errors.append(FieldError("lastName", "is required with dateOfBirth"))
        case (.some(let last), .some(let dob)):
            if let date = CalendarDate(iso: dob) {
                nameAndBirth = (last, date)
            } else {
                errors.append(FieldError("dateOfBirth", "must be a date in the form YYYY-MM-DD"))
            }
        }
        if !errors.isEmpty { throw ProblemError.badRequest("Invalid query parameters.", errors: errors) }
        let filter = PatientFilter(
            status: q.status.flatMap { PatientStatus(rawValue: $0.rawValue) },
            assignedTherapistID: try queryID(q.assignedTherapistId, field: "assignedTherapistId"),
            email: q.email, phone: q.phone, lastNameAndBirthDate: nameAndBirth)
        let result = try await store.list(scope: AccessPolicy.patientScope(principal), filter: filter, page: page)
        audit?.listed(patients: result.items.map(\.id))
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Patient.init), nextCursor: nextCursor(result, list: .patients)))))
    }

    func createPatient(_ input: Operations.CreatePatient.Input) async throws -> Operations.CreatePatient.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canCreatePatient(principal) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let first = v.text(body.firstName, "firstName", max: 100)
        let last = v.text(body.lastName, "lastName", max: 100)
        let dob = validateDateOfBirth(&v, body.dateOfBirth)
        let email = v.email(body.email, "email", required: body.portalAccess == true)
        let phone = validatePhone(&v, body.phone, field: "phone")
        let address = body.address.flatMap { validateAddress(&v, $0) }
        let contact = body.emergencyContact.flatMap { validateContact(&v, $0) }
        let requestedTherapist = uuidField(&v, body.assignedTherapistId, "assignedTherapistId")
        let therapistID = try await activeTherapist(&v, requestedTherapist, field: "assignedTherapistId", tenantID: principal.tenantID)
        try v.check()

        let now = self.now
        var patient = Patient(
            tenantID: principal.tenantID, assignedTherapistID: therapistID!, firstName: first!, lastName: last!,
            dateOfBirth: dob!, email: email, phone: phone, address: address, emergencyContact: contact,
            createdAt: now, updatedAt: now)
        var portalUser: User?
        var invitation: (token: String, record: InvitationRecord)?
        if body.portalAccess == true, let email {
            let user = User(tenantID: principal.tenantID, email: email, displayName: "\(first!) \(last!)", role: .client, createdAt: now, updatedAt: now)
            patient.userID = user.id
            portalUser = user
            invitation = services.auth.makeInvitation(for: user, now: now)
        }
        audit?.resource(patient.id)
        audit?.patient(patient.id)
        audit?.changed(
            presentFields([
                "firstName": body.firstName, "lastName": body.lastName, "dateOfBirth": body.dateOfBirth,
                "email": body.email, "phone": body.phone, "address": body.address,
                "emergencyContact": body.emergencyContact, "assignedTherapistId": body.assignedTherapistId,
                "portalAccess": body.portalAccess,
            ]))
        try await store.create(patient, portalUser: portalUser, invitation: invitation?.record)
        return .created(
            .init(
                body: .json(
                    .init(
                        patient: .init(patient), invitationToken: invitation?.token,
                        invitationExpiresAt: invitation?.record.expiresAt))))
    }

    func getPatient(_ input: Operations.GetPatient.Input) async throws -> Operations.GetPatient.Output {
        .ok(.init(body: .json(.init(try await visiblePatient(input.path.id)))))
    }

    func updatePatient(_ input: Operations.UpdatePatient.Input) async throws -> Operations.UpdatePatient.Output {
        let principal = try RequestScope.principal()
        var patient = try await visiblePatient(input.path.id)
        guard AccessPolicy.canUpdatePatient(principal, patient) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        if let value = body.firstName { patient.firstName = v.text(value, "firstName", max: 100) ?? patient.firstName }
        if let value = body.lastName { patient.lastName = v.text(value, "lastName", max: 100) ?? patient.lastName }
        if let value = body.dateOfBirth { patient.dateOfBirth = validateDateOfBirth(&v, value) ?? patient.dateOfBirth }
        if let value = body.email { patient.email = v.email(value, "email") }
        if let value = body.phone { patient.phone = validatePhone(&v, value, field: "phone") }
        if let value = body.address { patient.address = validateAddress(&v, value) }
        if let value = body.emergencyContact { patient.emergencyContact = validateContact(&v, value) }
        if let value = body.assignedTherapistId {
            let therapistID = uuidField(&v, value, "assignedTherapistId")
            patient.assignedTherapistID =
                try await activeTherapist(&v, therapistID, field: "assignedTherapistId", tenantID: principal.tenantID)
                ?? patient.assignedTherapistID
        }
        try v.check()
        patient.updatedAt = now
        audit?.changed(
            presentFields([
                "firstName": body.firstName, "lastName": body.lastName, "dateOfBirth": body.dateOfBirth,
                "email": body.email, "phone": body.phone, "address": body.address,
                "emergencyContact": body.emergencyContact, "assignedTherapistId": body.assignedTherapistId,
            ]))
        try await store.update(patient)
        return .ok(.init(body: .json(.init(patient))))
    }

    func dischargePatient(_ input: Operations.DischargePatient.Input) async throws -> Operations.DischargePatient.Output {
        let principal = try RequestScope.principal()
        var patient = try await visiblePatient(input.path.id)
        guard AccessPolicy.canDischargePatient(principal, patient) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let reason = v.text(body.reason, "reason", max: 2000)
        try v.check()
        if patient.status == .active {
            let now = self.now
            patient.status = .discharged
            patient.dischargedAt = now
            patient.dischargeReason = reason
            patient.updatedAt = now
            audit?.changed(["status", "dischargedAt", "dischargeReason"])
            try await store.update(patient)
        }
        return .ok(.init(body: .json(.init(patient))))
    }

    /// The patient, if the caller may see it; otherwise 404 exactly as if it did not exist.
    func visiblePatient(_ rawID: String) async throws -> Patient {
        let principal = try RequestScope.principal()
        let id = try pathID(rawID)
        guard let patient = try await store.find(id: id, tenantID: principal.tenantID) as Patient? else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canViewPatient(principal, patient) else { throw DomainError.forbidden }
        return patient
    }

    private func validateDateOfBirth(_ v: inout Validator, _ raw: String) -> CalendarDate? {
        guard let date = CalendarDate(iso: raw) else {
            v.add("dateOfBirth", "must be a date in the form YYYY-MM-DD")
            return nil
        }
        let today = Calendar.utc.dateComponents([.year, .month, .day], from: Date())
        if date.year < 1900 || date > CalendarDate(year: today.year!, month: today.month!, day: today.day!)! {
            v.add("dateOfBirth", "must be between 1900-01-01 and today")
            return nil
        }
        return date
    }

    private func validatePhone(_ v: inout Validator, _ raw: String?, field: String) -> String? {
        guard let value = v.text(raw, field, max: 32, required: false) else { return nil }
        let digits = value.filter(\.isNumber)
        if digits.count < 7 || digits.count > 15 || !value.allSatisfy({ $0.isNumber || " +-().".contains($0) }) {
            v.add(field, "must be a phone number of 7 to 15 digits")
        }
        return value
    }

    private func validateAddress(_ v: inout Validator, _ a: Components.Schemas.Address) -> Address? {
        let line1 = v.text(a.line1, "address.line1", max: 200)
        let line2 = v.text(a.line2, "address.line2", max: 200, required: false)
        let city = v.text(a.city, "address.city", max: 100)
        let state = v.text(a.state, "address.state", max: 50)
        let postal = v.text(a.postalCode, "address.postalCode", max: 20)
        guard let line1, let city, let state, let postal else { return nil }
        return Address(line1: line1, line2: line2, city: city, state: state, postalCode: postal)
    }

    private func validateContact(_ v: inout Validator, _ c: Components.Schemas.EmergencyContact) -> EmergencyContact? {
        let name = v.text(c.name, "emergencyContact.name", max: 200)
        let phone = validatePhone(&v, c.phone, field: "emergencyContact.phone")
        if c.phone.trimmingCharacters(in: .whitespaces).isEmpty { v.add("emergencyContact.phone", "is required") }
        let relationship = v.text(c.relationship, "emergencyContact.relationship", max: 100, required: false)
        guard let name, let phone else { return nil }
        return EmergencyContact(name: name, phone: phone, relationship: relationship)
    }
}
