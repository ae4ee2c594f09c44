import EHRDomain
import EHRSecurity
import Foundation

/// A new note as entered.
struct NoteInput: Sendable {
    var patientID: String?
    var appointmentID: String?
    var type: NoteType
    var sections: [String: String]
}

/// Changes to a draft; nil leaves a field as it is.
struct NoteChanges: Sendable {
    var type: NoteType?
    var sections: [String: String]?
    var appointmentID: String?
}

extension UseCases {
    /// A page of the notes the caller may see, and how much of them (admins: metadata only).
    func notes(_ principal: Principal, filter: NoteFilter, page: PageRequest) async throws -> (Page<ClinicalNote>, NoteVisibility) {
        let scope = AccessPolicy.noteScope(principal)
        let visibility: NoteVisibility = if case .tenantMetadata = scope { .metadataOnly } else { .full }
        let result = try await store.list(scope: scope, filter: filter, page: page)
        audit?.listed(patients: result.items.map(\.patientID))
        return (result, visibility)
    }

    /// The note, its patient and how much of it the caller may read; 404 when they may not see it at all.
    /// Content the caller may not normally read opens only under an unexpired break-glass grant of their own.
    func note(_ principal: Principal, id: UUID) async throws -> (ClinicalNote, Patient, NoteVisibility) {
        guard let note = try await store.find(id: id, tenantID: principal.tenantID) as ClinicalNote?,
            let patient = try await store.find(id: note.patientID, tenantID: principal.tenantID) as Patient?
        else { throw DomainError.notFound }
        audit?.patient(patient.id)
        var visibility = AccessPolicy.noteVisibility(principal, note, patient: patient)
        if visibility != .full, AccessPolicy.canBreakGlass(principal, note, patient: patient),
            let grant = try await store.activeGrant(userID: principal.userID, noteID: note.id, tenantID: principal.tenantID, at: Date())
        {
            visibility = .full
            audit?.detail("break-glass grant \(grant.id.lowercasedString)")
        }
        guard let visibility else { throw DomainError.forbidden }
        return (note, patient, visibility)
    }

    /// For a caller who may not read the note but may break glass on it (an admin, a therapist of the practice
    /// not assigned to the patient): the note's id and type, nothing of its content or patient. Nil otherwise.
    func breakGlassCandidate(_ principal: Principal, id: UUID) async throws -> ClinicalNote? {
        guard let note = try await store.find(id: id, tenantID: principal.tenantID) as ClinicalNote?,
            let patient = try await store.find(id: note.patientID, tenantID: principal.tenantID) as Patient?,
            AccessPolicy.canBreakGlass(principal, note, patient: patient)
        else { return nil }
        audit?.patient(patient.id)
        return note
    }

    func createNote(_ principal: Principal, _ input: NoteInput) async throws -> ClinicalNote {
        guard principal.role == .therapist else { throw DomainError.forbidden }
        var v = Validator()
        let patientID = v.uuid(input.patientID, "patientId")
        if input.patientID?.isEmpty ?? true { v.add("patientId", "is required") }
        let appointmentID = v.uuid(input.appointmentID, "appointmentId")
        for problem in NoteRules.problems(type: input.type, sections: input.sections) { v.add(problem.field, problem.message) }
        try v.check()
        let now = self.now
        let note = ClinicalNote(
            id: RandomUUID.make(), tenantID: principal.tenantID, patientID: patientID!, authorID: principal.userID, appointmentID: appointmentID,
            type: input.type, sections: input.sections, createdAt: now, updatedAt: now)
        let changed = ["patientId", "type", "sections"] + (appointmentID == nil ? [] : ["appointmentId"])
        // PostgreSQL asks the checks below in the note's own INSERT (one round trip instead of two); whatever
        // it refuses is asked again step by step, for the answer and the event that refusal needs.
        let before = audit?.saved()
        audit?.patient(note.patientID)
        audit?.resource(note.id)
        audit?.changed(changed)
        if try await store.createIfAuthorMayWrite(note) == true { return note }
        if let before { audit?.restore(before) }
        let patient = try await referencedPatientReference(principal, id: note.patientID)
        guard AccessPolicy.canCreateNote(principal, patient: patient) else { throw DomainError.forbidden }
        try await checkAppointment(appointmentID, belongsTo: patient)
        audit?.resource(note.id)
        audit?.changed(changed)
        try await store.create(note)
        return note
    }

    func updateNote(_ principal: Principal, id: UUID, _ changes: NoteChanges) async throws -> ClinicalNote {
        var (note, patient, _) = try await note(principal, id: id)
        guard AccessPolicy.canEditNote(principal, note, patient: patient) else { throw DomainError.forbidden }
        try note.requireDraft(to: "changed")
        var v = Validator()
        let appointmentID = v.uuid(changes.appointmentID, "appointmentId")
        for problem in NoteRules.problems(type: changes.type ?? note.type, sections: changes.sections ?? note.sections) {
            v.add(problem.field, problem.message)
        }
        try v.check()
        try await checkAppointment(appointmentID, belongsTo: patient.reference)
        try note.revise(type: changes.type, sections: changes.sections, appointmentID: appointmentID, at: now)
        audit?.changed(
            [changes.type.map { _ in "type" }, changes.sections.map { _ in "sections" }, changes.appointmentID.map { _ in "appointmentId" }]
                .compactMap { $0 })
        try await store.updateDraft(note)
        return note
    }

    func voidNote(_ principal: Principal, id: UUID, reason: String?) async throws -> ClinicalNote {
        var (note, patient, _) = try await note(principal, id: id)
        guard AccessPolicy.canVoidNote(principal, note, patient: patient) else { throw DomainError.forbidden }
        try note.requireDraft(to: "voided")
        var v = Validator()
        let reason = v.text(reason, "reason", max: 2000)
        try v.check()
        try note.void(reason: reason!, at: now)
        audit?.changed(["status", "voidedAt", "voidReason"])
        try await store.updateDraft(note)
        return note
    }

    func signNote(_ principal: Principal, id: UUID) async throws -> ClinicalNote {
        var (note, patient, _) = try await note(principal, id: id)
        guard AccessPolicy.canSignNote(principal, note, patient: patient) else { throw DomainError.forbidden }
        try note.sign(by: principal.userID, at: now)
        audit?.changed(["status", "signedAt", "signedBy", "contentHash"])
        try await store.updateDraft(note)
        return note
    }

    func addAddendum(_ principal: Principal, noteID: UUID, text: String?) async throws -> ClinicalNote {
        var (note, patient, _) = try await note(principal, id: noteID)
        guard AccessPolicy.canAddAddendum(principal, note, patient: patient) else { throw DomainError.forbidden }
        guard note.status == .signed else {
            throw DomainError.conflict("addenda are appended to signed notes; this note is \(note.status.rawValue)")
        }
        var v = Validator()
        let text = v.text(text, "text", max: NoteRules.maximumSectionLength)
        try v.check()
        let addendum = try note.appendAddendum(by: principal.userID, text: text!, at: now)
        audit?.changed(["addenda"])
        audit?.detail("addendum \(addendum.id.lowercasedString)")
        try await store.addAddendum(addendum)
        return note
    }

    /// Grants the caller the note's content for 60 minutes, with an audited reason.
    func breakGlass(_ principal: Principal, noteID: UUID, reason: String?) async throws -> (BreakGlassGrant, ClinicalNote) {
        guard let note = try await store.find(id: noteID, tenantID: principal.tenantID) as ClinicalNote?,
            let patient = try await store.find(id: note.patientID, tenantID: principal.tenantID) as Patient?
        else { throw DomainError.notFound }
        audit?.patient(patient.id)
        if AccessPolicy.noteVisibility(principal, note, patient: patient) == .full {
            throw DomainError.conflict("you already have access to this note; break-glass is not needed")
        }
        guard AccessPolicy.canBreakGlass(principal, note, patient: patient) else { throw DomainError.forbidden }
        var v = Validator()
        let reason = v.text(reason, "reason", max: 2000)
        if let reason, reason.count < BreakGlassGrant.minimumReasonLength {
            v.add("reason", "must be at least \(BreakGlassGrant.minimumReasonLength) characters")
        }
        try v.check()
        let grant = BreakGlassGrant(
            tenantID: principal.tenantID, userID: principal.userID, noteID: note.id, patientID: patient.id, reason: reason!, grantedAt: now)
        audit?.detail("break-glass grant \(grant.id.lowercasedString)")
        audit?.changed(["reason"])
        try await store.createGrant(grant)
        return (grant, note)
    }

    private func checkAppointment(_ id: UUID?, belongsTo patient: PatientReference) async throws {
        guard let id else { return }
        guard let appointment = try await store.find(id: id, tenantID: patient.tenantID) as Appointment?, appointment.patientID == patient.id else {
            throw DomainError.invalid("appointmentId", "is not an appointment of this patient")
        }
    }
}
