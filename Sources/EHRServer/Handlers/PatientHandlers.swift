import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

/// Patients: wire types in, ``UseCases`` calls, wire types out.
extension APIHandler {
    func listPatients(_ input: Operations.ListPatients.Input) async throws -> Operations.ListPatients.Output {
        let principal = try RequestScope.principal()
        let q = input.query
        let page = try pageRequest(limit: q.limit, cursor: q.cursor, list: .patients)
        let search = PatientSearch(
            status: q.status.flatMap { PatientStatus(rawValue: $0.rawValue) },
            assignedTherapistID: try queryID(q.assignedTherapistId, field: "assignedTherapistId"),
            email: q.email, phone: q.phone, lastName: q.lastName, dateOfBirth: q.dateOfBirth)
        let result = try await useCases.patients(principal, search: search, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Patient.init), nextCursor: nextCursor(result, list: .patients)))))
    }

    func createPatient(_ input: Operations.CreatePatient.Input) async throws -> Operations.CreatePatient.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let (patient, invitation) = try await useCases.createPatient(
            try RequestScope.principal(),
            PatientInput(
                firstName: body.firstName, lastName: body.lastName, dateOfBirth: body.dateOfBirth, email: body.email, phone: body.phone,
                address: body.address.map(AddressInput.init), emergencyContact: body.emergencyContact.map(ContactInput.init),
                assignedTherapistID: optionalID(body.assignedTherapistId), portalAccess: body.portalAccess == true))
        return .created(
            .init(body: .json(.init(patient: .init(patient), invitationToken: invitation?.token, invitationExpiresAt: invitation?.expiresAt))))
    }

    func getPatient(_ input: Operations.GetPatient.Input) async throws -> Operations.GetPatient.Output {
        .ok(.init(body: .json(.init(try await useCases.patient(try RequestScope.principal(), id: try pathID(input.path.id))))))
    }

    func updatePatient(_ input: Operations.UpdatePatient.Input) async throws -> Operations.UpdatePatient.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let changes = PatientChanges(
            firstName: body.firstName, lastName: body.lastName, dateOfBirth: body.dateOfBirth, email: body.email, phone: body.phone,
            address: body.address.map(AddressInput.init), emergencyContact: body.emergencyContact.map(ContactInput.init),
            assignedTherapistID: optionalID(body.assignedTherapistId))
        return .ok(.init(body: .json(.init(try await useCases.updatePatient(try RequestScope.principal(), id: try pathID(input.path.id), changes)))))
    }

    func dischargePatient(_ input: Operations.DischargePatient.Input) async throws -> Operations.DischargePatient.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let patient = try await useCases.dischargePatient(try RequestScope.principal(), id: try pathID(input.path.id), reason: body.reason)
        return .ok(.init(body: .json(.init(patient))))
    }
}

extension AddressInput {
    init(_ a: Components.Schemas.Address) {
        self.init(line1: a.line1, line2: a.line2, city: a.city, state: a.state, postalCode: a.postalCode)
    }
}

extension ContactInput {
    init(_ c: Components.Schemas.EmergencyContact) {
        self.init(name: c.name, phone: c.phone, relationship: c.relationship)
    }
}
