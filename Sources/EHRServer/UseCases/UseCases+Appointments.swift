import Crypto
import EHRDomain
import EHRSecurity
import Foundation

/// A new appointment as entered (times already parsed by the front end; a form names its own field errors).
struct AppointmentInput: Sendable {
    var patientID: String?
    var therapistID: String?
    var startsAt: Date
    var endsAt: Date
    var timeZone: String
    var kind: AppointmentKind
    var reason: String?
}

/// Changes to an appointment; nil leaves a field as it is.
struct AppointmentChanges: Sendable {
    var startsAt: Date?
    var endsAt: Date?
    var timeZone: String?
    var kind: AppointmentKind?
    var reason: String?
    var status: AppointmentStatus?

    var names: [String] {
        [
            ("startsAt", startsAt != nil), ("endsAt", endsAt != nil), ("timeZone", timeZone != nil), ("kind", kind != nil),
            ("reason", reason != nil), ("status", status != nil),
        ].filter(\.1).map(\.0)
    }
}

/// What a televisit start hands to a participant.
struct TelevisitPass: Sendable {
    var appointment: Appointment
    var roomID: String
    var joinURL: String
    var joinToken: String
    var expiresAt: Date
}

extension UseCases {
    func appointments(_ principal: Principal, filter: AppointmentFilter, page: PageRequest) async throws -> Page<Appointment> {
        let result = try await store.list(scope: AccessPolicy.appointmentScope(principal), filter: filter, page: page)
        audit?.listed(patients: result.items.map(\.patientID))
        return result
    }

    /// The appointment and its patient, if the caller may see it; otherwise 404.
    func appointment(_ principal: Principal, id: UUID) async throws -> (Appointment, Patient) {
        guard let appointment = try await store.find(id: id, tenantID: principal.tenantID) as Appointment?,
            let patient = try await store.find(id: appointment.patientID, tenantID: principal.tenantID) as Patient?
        else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canViewAppointment(principal, appointment, patient: patient) else { throw DomainError.forbidden }
        return (appointment, patient)
    }

    /// Books an appointment. A therapist already booked at that time answers 409 naming the other appointment
    /// (the database guarantees it for concurrent requests too).
    func createAppointment(_ principal: Principal, _ input: AppointmentInput) async throws -> Appointment {
        guard principal.role != .client else { throw DomainError.forbidden }
        var v = Validator()
        let patientID = v.uuid(input.patientID, "patientId")
        if input.patientID?.isEmpty ?? true { v.add("patientId", "is required") }
        let therapistUUID = v.uuid(input.therapistID, "therapistId")
        if input.therapistID?.isEmpty ?? true { v.add("therapistId", "is required") }
        for problem in AppointmentRules.problems(startsAt: input.startsAt, endsAt: input.endsAt, timeZone: input.timeZone) {
            v.add(problem.field, problem.message)
        }
        let reason = v.text(input.reason, "reason", max: 2000, required: false)
        try v.check()
        let patient = try await referencedPatient(principal, id: patientID!)
        let therapistID = try await activeTherapist(&v, therapistUUID, field: "therapistId", tenantID: principal.tenantID)
        try v.check()
        guard let therapistID else { throw DomainError.validation(v.errors) }
        guard AccessPolicy.canCreateAppointment(principal, patient: patient, therapistID: therapistID) else { throw DomainError.forbidden }
        let now = self.now
        let appointment = Appointment(
            id: RandomUUID.make(), tenantID: principal.tenantID, patientID: patient.id, therapistID: therapistID,
            startsAt: millisecondPrecision(input.startsAt), endsAt: millisecondPrecision(input.endsAt),
            timeZone: input.timeZone, kind: input.kind, reason: reason, createdAt: now, updatedAt: now)
        audit?.resource(appointment.id)
        audit?.changed(["patientId", "therapistId", "startsAt", "endsAt", "timeZone", "kind"] + (reason == nil ? [] : ["reason"]))
        try await store.create(appointment)
        await announce(appointment, patient: patient, change: "created")
        return appointment
    }

    func updateAppointment(_ principal: Principal, id: UUID, _ changes: AppointmentChanges) async throws -> Appointment {
        var (appointment, patient) = try await appointment(principal, id: id)
        guard AccessPolicy.canUpdateAppointment(principal, appointment) else { throw DomainError.forbidden }
        let now = self.now
        let changesSchedule = changes.startsAt != nil || changes.endsAt != nil || changes.timeZone != nil || changes.kind != nil || changes.reason != nil
        if changesSchedule, !AppointmentWorkflow.isEditable(appointment.status) {
            throw DomainError.conflict("a \(appointment.status.rawValue) appointment can no longer be rescheduled or edited")
        }
        if let status = changes.status, !AppointmentWorkflow.canTransition(from: appointment.status, to: status) {
            throw DomainError.conflict("an appointment cannot go from \(appointment.status.rawValue) to \(status.rawValue)")
        }
        var v = Validator()
        let reason: String?? = changes.reason.map { v.text($0, "reason", max: 2000, required: false) }
        try v.check()
        if changesSchedule {
            try appointment.reschedule(
                startsAt: changes.startsAt, endsAt: changes.endsAt, timeZone: changes.timeZone, kind: changes.kind, reason: reason, at: now)
        }
        if let status = changes.status { try appointment.transition(to: status, at: now) }
        appointment.updatedAt = now
        audit?.changed(changes.names)
        try await store.update(appointment)
        await announce(appointment, patient: patient, change: "updated")
        return appointment
    }

    func cancelAppointment(_ principal: Principal, id: UUID, reason: String?) async throws -> Appointment {
        var (appointment, patient) = try await appointment(principal, id: id)
        guard AccessPolicy.canUpdateAppointment(principal, appointment) else { throw DomainError.forbidden }
        var v = Validator()
        let reason = v.text(reason, "reason", max: 2000, required: false)
        try v.check()
        try appointment.cancel(reason: reason, at: now)
        audit?.changed(["status"] + (reason == nil ? [] : ["cancellationReason"]))
        try await store.update(appointment)
        await announce(appointment, patient: patient, change: "cancelled")
        return appointment
    }

    /// Admits the caller (the appointment's therapist or client) to its televisit room with a short-lived join token.
    func startTelevisit(_ principal: Principal, appointmentID: UUID) async throws -> TelevisitPass {
        var (appointment, patient) = try await appointment(principal, id: appointmentID)
        guard AccessPolicy.canStartTelevisit(principal, appointment, patient: patient) else { throw DomainError.forbidden }
        if try appointment.startTelevisit(byTherapist: principal.role == .therapist, at: now) {
            audit?.changed(["status"])
            try await store.update(appointment)
            await announce(appointment, patient: patient, change: "started")
        }
        let roomID = TelevisitRoom.id(of: appointment, keyID: services.tokens.keyID)
        let lifetime: TimeInterval = 10 * 60
        let issuedAt = Date()
        let token = try await services.tokens.issueTelevisitToken(
            for: principal, roomID: roomID, appointmentID: appointment.id, lifetime: lifetime, now: issuedAt)
        let base = services.configuration.televisitBaseURL
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return TelevisitPass(
            appointment: appointment, roomID: roomID, joinURL: "\(trimmed)/rooms/\(roomID)", joinToken: token,
            expiresAt: issuedAt.addingTimeInterval(lifetime))
    }

    /// Tells the live sockets of everyone who sees the appointment (its therapist, the patient's therapist, the
    /// client) that it changed; they read it again through the API.
    private func announce(_ appointment: Appointment, patient: Patient, change: String) async {
        let recipients = [appointment.therapistID, patient.assignedTherapistID, patient.userID].compactMap { $0 }
        await services.publish(
            LiveSignal(kind: .appointment, tenantID: appointment.tenantID, recipients: recipients, appointmentID: appointment.id, change: change))
    }
}
