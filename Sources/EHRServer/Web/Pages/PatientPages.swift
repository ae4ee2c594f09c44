import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird

/// Patients: the caller's list with exact search (blind indexes), the chart, and for admins create and discharge.
extension WebApp {
    func patients(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let query = request.uri.queryParameters
        let by = query.get("by") ?? "name"
        let term = (query.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        var search = PatientSearch()
        var values: [String: Any] = ["q": term, "by": by, "canCreate": AccessPolicy.canCreatePatient(principal)]
        values["byOptions"] = [("name", "Last name"), ("email", "Email"), ("phone", "Phone"), ("dob", "Last name + date of birth")].map {
            ["value": $0.0, "label": $0.1, "selected": $0.0 == by]
        }
        if !term.isEmpty {
            switch by {
            case "email": search.email = term
            case "phone": search.phone = term
            case "dob":
                let parts = term.split(separator: " ").map(String.init)
                search.lastName = parts.dropLast().joined(separator: " ")
                search.dateOfBirth = parts.last
                if parts.count < 2 { values["searchError"] = "Enter a last name and a date of birth, e.g. Doe 1985-04-12." }
            default: break
            }
        }
        let cursor = query.get("cursor").flatMap { services.cursors.decode($0, list: .patients) }
        var result = Page<Patient>(items: [], next: nil)
        if values["searchError"] == nil {
            do {
                result = try await useCases.patients(principal, search: search, page: PageRequest(limit: 25, after: cursor))
            } catch let problem as ProblemError {
                values["searchError"] = problem.errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
            }
        }
        // A name search filters the visible page (names are encrypted; exact searches use the blind indexes).
        let shown =
            by == "name" && !term.isEmpty ? result.items.filter { "\($0.firstName) \($0.lastName)".localizedCaseInsensitiveContains(term) } : result.items
        values["patients"] = shown.map { patientRow($0) }
        values["empty"] = shown.isEmpty
        if let next = result.next {
            values["nextLink"] = "/app/patients?cursor=\(services.cursors.encode(next, list: .patients))"
        }
        return page("patients", "Patients", context, values)
    }

    func patientRow(_ p: Patient) -> [String: Any] {
        ["id": p.id.wire, "name": "\(p.lastName), \(p.firstName)", "dob": p.dateOfBirth.description, "status": p.status.rawValue, "email": p.email ?? ""]
    }

    func chart(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let patient = try await useCases.patient(principal, id: try routeID(context))
        let zone = try await practiceZone(principal)
        let query = request.uri.queryParameters
        let appointmentsAfter = query.get("appointments").flatMap { services.cursors.decode($0, list: .appointments) }
        let notesAfter = query.get("notes").flatMap { services.cursors.decode($0, list: .notes) }
        let appointments = try await useCases.appointments(
            principal, filter: AppointmentFilter(patientID: patient.id), page: PageRequest(limit: 20, after: appointmentsAfter))
        let (notes, visibility) = try await useCases.notes(
            principal, filter: NoteFilter(patientID: patient.id), page: PageRequest(limit: 20, after: notesAfter))
        var values = patientRow(patient)
        values["fullName"] = "\(patient.firstName) \(patient.lastName)"
        values["phone"] = patient.phone ?? ""
        values["address"] = patient.address.map { [$0.line1, $0.line2, $0.city, $0.state, $0.postalCode].compactMap { $0 }.joined(separator: ", ") } ?? ""
        values["emergency"] = patient.emergencyContact.map { "\($0.name), \($0.phone)" + ($0.relationship.map { " (\($0))" } ?? "") } ?? ""
        values["appointments"] = appointments.items.map { appointmentRow($0, name: "\(patient.firstName) \(patient.lastName)", zone: zone) }
        values["noAppointments"] = appointments.items.isEmpty
        values["notes"] = notes.items.map { noteRow($0, zone: zone) }
        values["noNotes"] = notes.items.isEmpty
        // Each list pages on its own; the other list starts over.
        if let next = appointments.next {
            values["moreAppointments"] = "/app/patients/\(patient.id.wire)?appointments=\(services.cursors.encode(next, list: .appointments))"
        }
        if let next = notes.next { values["moreNotes"] = "/app/patients/\(patient.id.wire)?notes=\(services.cursors.encode(next, list: .notes))" }
        values["contentHidden"] = visibility == .metadataOnly
        values["canWrite"] = AccessPolicy.canCreateNote(principal, patient: patient) && patient.status == .active
        values["canBook"] = principal.role != .client && patient.status == .active
        values["noteTypes"] = NoteType.allCases.map { ["value": $0.rawValue, "label": WebFormat.noteTypeNames[$0]!] }
        values["isAdmin"] = principal.role == .admin
        values["canDischarge"] = AccessPolicy.canDischargePatient(principal, patient) && patient.status == .active
        if AccessPolicy.canUpdatePatient(principal, patient) {
            let providers = try await useCases.providers(principal, page: PageRequest(limit: PageRequest.maximumLimit))
            values["therapists"] = providers.items.filter(\.user.active).map {
                ["id": $0.id.wire, "name": $0.user.displayName, "selected": $0.id == patient.assignedTherapistID]
            }
            values["canAssign"] = true
        }
        return page("chart", "Patient chart", context, values)
    }

    func noteRow(_ n: ClinicalNote, zone: TimeZone) -> [String: Any] {
        [
            "id": n.id.wire, "type": WebFormat.noteTypeNames[n.type] ?? n.type.rawValue, "status": n.status.rawValue,
            "when": WebFormat.moment(n.signedAt ?? n.createdAt, in: zone),
        ]
    }

    func dischargePatient(_ context: AppRequestContext) async throws -> Response {
        let id = try routeID(context)
        do {
            _ = try await useCases.dischargePatient(try session(context).principal, id: id, reason: context.form?["reason"])
        } catch DomainError.validation {
            return page(
                "message", "Reason needed", context,
                ["message": "Give a reason for the discharge.", "link": "/app/patients/\(id.wire)", "linkLabel": "Back to the chart"],
                status: .unprocessableContent)
        }
        return WebRenderer.redirect("/app/patients/\(id.wire)")
    }

    /// Moves the patient to another therapist (admins).
    func assignPatient(_ context: AppRequestContext) async throws -> Response {
        let id = try routeID(context)
        _ = try await useCases.updatePatient(
            try session(context).principal, id: id, PatientChanges(assignedTherapistID: context.form?["assignedTherapistId"] ?? ""))
        return WebRenderer.redirect("/app/patients/\(id.wire)")
    }

    func newPatient(_ context: AppRequestContext, values: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try session(context).principal
        guard AccessPolicy.canCreatePatient(principal) else { throw DomainError.forbidden }
        let providers = try await useCases.providers(principal, page: PageRequest(limit: PageRequest.maximumLimit))
        var values = values
        let chosen = values["assignedTherapistId"] as? String
        values["therapists"] = providers.items.filter(\.user.active).map {
            ["id": $0.id.wire, "name": $0.user.displayName, "selected": $0.id.wire == chosen]
        }
        return page("patient-form", "New patient", context, values, status: status)
    }

    func createPatient(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let form = context.form ?? WebForm("")
        let input = PatientInput(
            firstName: form["firstName"], lastName: form["lastName"], dateOfBirth: form["dateOfBirth"], email: form.nonBlank("email"),
            phone: form.nonBlank("phone"), assignedTherapistID: form["assignedTherapistId"], portalAccess: form["portalAccess"] == "on")
        do {
            let (patient, invitation) = try await useCases.createPatient(principal, input)
            if let invitation {
                return page(
                    "message", "Patient added", context,
                    [
                        "message":
                            "The patient was added. Give them this link to set their portal password (valid until \(WebFormat.moment(invitation.expiresAt, in: try await practiceZone(principal)))):",
                        "copy": "/app/accept-invite?token=\(invitation.token)", "link": "/app/patients/\(patient.id.wire)", "linkLabel": "Open the chart",
                    ])
            }
            return WebRenderer.redirect("/app/patients/\(patient.id.wire)")
        } catch DomainError.validation(let errors) {
            var values: [String: Any] = ["errors": Self.errorMap(errors)]
            for field in ["firstName", "lastName", "dateOfBirth", "email", "phone", "assignedTherapistId"] { values[field] = form[field] ?? "" }
            values["portalAccess"] = form["portalAccess"] == "on"
            return try await newPatient(context, values: values, status: .unprocessableContent)
        }
    }
}
