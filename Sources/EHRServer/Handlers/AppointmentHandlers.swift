import Crypto
import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listAppointments(_ input: Operations.ListAppointments.Input) async throws -> Operations.ListAppointments.Output {
        let principal = try RequestScope.principal()
        let q = input.query
        let page = try pageRequest(limit: q.limit, cursor: q.cursor, list: .appointments)
        if let from = q.from, let to = q.to, to < from { throw ProblemError.badParameter("to", "must not be before from") }
        let filter = AppointmentFilter(
            from: q.from, to: q.to,
            therapistID: try queryID(q.therapistId, field: "therapistId"),
            patientID: try queryID(q.patientId, field: "patientId"),
            status: q.status.flatMap { AppointmentStatus(rawValue: $0.rawValue) },
            upcomingAfter: q.upcoming == true ? Date() : nil)
        let result = try await store.list(scope: AccessPolicy.appointmentScope(principal), filter: filter, page: page)
        audit?.listed(patients: result.items.map(\.patientID))
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Appointment.init), nextCursor: nextCursor(result, list: .appointments)))))
    }

    func createAppointment(_ input: Operations.CreateAppointment.Input) async throws -> Operations.CreateAppointment.Output {
        let principal = try RequestScope.principal()
        guard principal.role != .client else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let patientID = uuidField(&v, body.patientId, "patientId")
        let therapistUUID = uuidField(&v, body.therapistId, "therapistId")
        for problem in AppointmentRules.problems(startsAt: body.startsAt, endsAt: body.endsAt, timeZone: body.timeZone) {
            v.add(problem.field, problem.message)
        }
        let reason = v.text(body.reason, "reason", max: 2000, required: false)
        try v.check()
        let patient = try await referencedPatient(patientID!, principal: principal)
        let therapistID = try await activeTherapist(&v, therapistUUID, field: "therapistId", tenantID: principal.tenantID)
        try v.check()
        guard let therapistID else { throw DomainError.validation(v.errors) }
        guard AccessPolicy.canCreateAppointment(principal, patient: patient, therapistID: therapistID) else { throw DomainError.forbidden }
        let now = self.now
        let appointment = Appointment(
            tenantID: principal.tenantID, patientID: patient.id, therapistID: therapistID,
            startsAt: millisecondPrecision(body.startsAt), endsAt: millisecondPrecision(body.endsAt),
            timeZone: body.timeZone, kind: AppointmentKind(rawValue: body.kind.rawValue)!, reason: reason,
            createdAt: now, updatedAt: now)
        audit?.resource(appointment.id)
        audit?.changed(["patientId", "therapistId", "startsAt", "endsAt", "timeZone", "kind"] + (reason == nil ? [] : ["reason"]))
        try await store.create(appointment)
        return .created(.init(body: .json(.init(appointment))))
    }

    func getAppointment(_ input: Operations.GetAppointment.Input) async throws -> Operations.GetAppointment.Output {
        .ok(.init(body: .json(.init(try await visibleAppointment(input.path.id).0))))
    }

    func updateAppointment(_ input: Operations.UpdateAppointment.Input) async throws -> Operations.UpdateAppointment.Output {
        let principal = try RequestScope.principal()
        var (appointment, _) = try await visibleAppointment(input.path.id)
        guard AccessPolicy.canUpdateAppointment(principal, appointment) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let changesSchedule = body.startsAt != nil || body.endsAt != nil || body.timeZone != nil || body.kind != nil || body.reason != nil
        if changesSchedule, !AppointmentWorkflow.isEditable(appointment.status) {
            throw DomainError.conflict("a \(appointment.status.rawValue) appointment can no longer be rescheduled or edited")
        }
        if let status = body.status.flatMap({ AppointmentStatus(rawValue: $0.rawValue) }) {
            guard AppointmentWorkflow.canTransition(from: appointment.status, to: status) else {
                throw DomainError.conflict("an appointment cannot go from \(appointment.status.rawValue) to \(status.rawValue)")
            }
            appointment.status = status
        }
        var v = Validator()
        if let value = body.startsAt { appointment.startsAt = millisecondPrecision(value) }
        if let value = body.endsAt { appointment.endsAt = millisecondPrecision(value) }
        if let value = body.timeZone { appointment.timeZone = value }
        if let value = body.kind { appointment.kind = AppointmentKind(rawValue: value.rawValue)! }
        if let value = body.reason { appointment.reason = v.text(value, "reason", max: 2000, required: false) }
        for problem in AppointmentRules.problems(startsAt: appointment.startsAt, endsAt: appointment.endsAt, timeZone: appointment.timeZone) {
            v.add(problem.field, problem.message)
        }
        try v.check()
        appointment.updatedAt = now
        audit?.changed(
            presentFields([
                "startsAt": body.startsAt, "endsAt": body.endsAt, "timeZone": body.timeZone, "kind": body.kind,
                "reason": body.reason, "status": body.status,
            ]))
        try await store.update(appointment)
        return .ok(.init(body: .json(.init(appointment))))
    }

    func cancelAppointment(_ input: Operations.CancelAppointment.Input) async throws -> Operations.CancelAppointment.Output {
        let principal = try RequestScope.principal()
        var (appointment, _) = try await visibleAppointment(input.path.id)
        guard AccessPolicy.canUpdateAppointment(principal, appointment) else { throw DomainError.forbidden }
        var v = Validator()
        var reason: String?
        if case .json(let body) = input.body { reason = v.text(body.reason, "reason", max: 2000, required: false) }
        try v.check()
        guard appointment.status != .cancelled, AppointmentWorkflow.canTransition(from: appointment.status, to: .cancelled) else {
            throw DomainError.conflict("a \(appointment.status.rawValue) appointment cannot be cancelled")
        }
        appointment.status = .cancelled
        appointment.cancellationReason = reason
        audit?.changed(["status"] + (reason == nil ? [] : ["cancellationReason"]))
        appointment.updatedAt = now
        try await store.update(appointment)
        return .ok(.init(body: .json(.init(appointment))))
    }

    func startTelevisit(_ input: Operations.StartTelevisit.Input) async throws -> Operations.StartTelevisit.Output {
        let principal = try RequestScope.principal()
        var (appointment, patient) = try await visibleAppointment(input.path.id)
        guard AccessPolicy.canStartTelevisit(principal, appointment, patient: patient) else { throw DomainError.forbidden }
        guard AppointmentWorkflow.canStartTelevisit(appointment.status) else {
            throw DomainError.conflict("a \(appointment.status.rawValue) appointment cannot start a televisit")
        }
        guard appointment.kind == .televisit else {
            throw DomainError.conflict("this appointment is in person; change its kind to televisit first")
        }
        // The therapist starting the session puts it in progress; a client joining changes nothing.
        if principal.role == .therapist, appointment.status != .inProgress {
            audit?.changed(["status"])
            appointment.status = .inProgress
            appointment.updatedAt = now
            try await store.update(appointment)
        }
        let roomID = televisitRoomID(for: appointment)
        let lifetime: TimeInterval = 10 * 60
        let issuedAt = Date()
        let token = try await services.tokens.issueTelevisitToken(for: principal, roomID: roomID, lifetime: lifetime, now: issuedAt)
        let base =
            services.configuration.televisitBaseURL.hasSuffix("/")
            ? String(services.configuration.televisitBaseURL.dropLast()) : services.configuration.televisitBaseURL
        return .ok(
            .init(
                body: .json(
                    .init(
                        appointment: .init(appointment), roomId: roomID, joinUrl: "\(base)/rooms/\(roomID)",
                        joinToken: token, expiresAt: issuedAt.addingTimeInterval(lifetime)))))
    }

    /// The appointment and its patient, if the caller may see it; otherwise 404.
    private func visibleAppointment(_ rawID: String) async throws -> (Appointment, Patient) {
        let principal = try RequestScope.principal()
        let id = try pathID(rawID)
        guard let appointment = try await store.find(id: id, tenantID: principal.tenantID) as Appointment?,
            let patient = try await store.find(id: appointment.patientID, tenantID: principal.tenantID) as Patient?
        else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canViewAppointment(principal, appointment, patient: patient) else { throw DomainError.forbidden }
        return (appointment, patient)
    }

    /// A patient named in a request body, as its parent record: unknown, foreign and invisible ids are all 404,
    /// exactly like reading it; a discharged patient takes no new work (422).
    func referencedPatient(_ id: UUID, principal: Principal) async throws -> Patient {
        guard let patient = try await store.find(id: id, tenantID: principal.tenantID) as Patient? else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canViewPatient(principal, patient) else { throw DomainError.forbidden }
        if patient.status == .discharged { throw DomainError.invalid("patientId", "the patient has been discharged") }
        return patient
    }

    /// A UUID in a request body; a malformed one is a validation error naming the field.
    func uuidField(_ v: inout Validator, _ raw: String?, _ field: String) -> UUID? {
        guard let raw else { return nil }
        guard let id = UUID(uuidString: raw) else {
            v.add(field, "must be a UUID")
            return nil
        }
        return id
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

    /// A stable room name per appointment. Admission is by the signed join token, not by knowing the name.
    private func televisitRoomID(for appointment: Appointment) -> String {
        let digest = SHA256.hash(data: Data("televisit:\(services.tokens.keyID):\(appointment.tenantID.wire):\(appointment.id.wire)".utf8))
        return digest.prefix(12).map { String(format: "%02x", $0) }.joined()
    }
}
