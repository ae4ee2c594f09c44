import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listNotes(_ input: Operations.ListNotes.Input) async throws -> Operations.ListNotes.Output {
        let principal = try RequestScope.principal()
        let q = input.query
        let page = try pageRequest(limit: q.limit, cursor: q.cursor, list: .notes)
        let filter = NoteFilter(
            patientID: try queryID(q.patientId, field: "patientId"),
            status: q.status.flatMap { NoteStatus(rawValue: $0.rawValue) },
            type: q._type.flatMap { NoteType(rawValue: $0.rawValue) })
        let scope = AccessPolicy.noteScope(principal)
        let visibility: NoteVisibility = if case .tenantMetadata = scope { .metadataOnly } else { .full }
        let result = try await store.list(scope: scope, filter: filter, page: page)
        audit?.listed(patients: result.items.map(\.patientID))
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, visibility: visibility) }, nextCursor: nextCursor(result, list: .notes)))))
    }

    func createNote(_ input: Operations.CreateNote.Input) async throws -> Operations.CreateNote.Output {
        let principal = try RequestScope.principal()
        guard principal.role == .therapist else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let patientID = uuidField(&v, body.patientId, "patientId")
        let appointmentID = uuidField(&v, body.appointmentId, "appointmentId")
        let type = NoteType(rawValue: body._type.rawValue)!
        for problem in NoteRules.problems(type: type, sections: body.sections.additionalProperties) { v.add(problem.field, problem.message) }
        try v.check()
        let patient = try await referencedPatient(patientID!, principal: principal)
        guard AccessPolicy.canCreateNote(principal, patient: patient) else { throw DomainError.forbidden }
        try await checkAppointment(appointmentID, belongsTo: patient)
        let now = self.now
        let note = ClinicalNote(
            tenantID: principal.tenantID, patientID: patient.id, authorID: principal.userID, appointmentID: appointmentID,
            type: type, sections: body.sections.additionalProperties, createdAt: now, updatedAt: now)
        audit?.resource(note.id)
        audit?.changed(["patientId", "type", "sections"] + (appointmentID == nil ? [] : ["appointmentId"]))
        try await store.create(note)
        return .created(.init(body: .json(.init(note, visibility: .full))))
    }

    func getNote(_ input: Operations.GetNote.Input) async throws -> Operations.GetNote.Output {
        let (note, _, visibility) = try await visibleNote(input.path.id)
        return .ok(.init(body: .json(.init(note, visibility: visibility))))
    }

    func updateNote(_ input: Operations.UpdateNote.Input) async throws -> Operations.UpdateNote.Output {
        let principal = try RequestScope.principal()
        var (note, patient, _) = try await visibleNote(input.path.id)
        guard AccessPolicy.canEditNote(principal, note, patient: patient) else { throw DomainError.forbidden }
        try requireDraft(note, action: "changed")
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let appointmentID = uuidField(&v, body.appointmentId, "appointmentId")
        if let type = body._type { note.type = NoteType(rawValue: type.rawValue)! }
        if let sections = body.sections { note.sections = sections.additionalProperties }
        for problem in NoteRules.problems(type: note.type, sections: note.sections) { v.add(problem.field, problem.message) }
        try v.check()
        if let appointmentID {
            try await checkAppointment(appointmentID, belongsTo: patient)
            note.appointmentID = appointmentID
        }
        note.updatedAt = now
        audit?.changed(presentFields(["type": body._type, "sections": body.sections, "appointmentId": body.appointmentId]))
        try await store.updateDraft(note)
        return .ok(.init(body: .json(.init(note, visibility: .full))))
    }

    func voidNote(_ input: Operations.VoidNote.Input) async throws -> Operations.VoidNote.Output {
        let principal = try RequestScope.principal()
        var (note, patient, _) = try await visibleNote(input.path.id)
        guard AccessPolicy.canVoidNote(principal, note, patient: patient) else { throw DomainError.forbidden }
        try requireDraft(note, action: "voided")
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let reason = v.text(body.reason, "reason", max: 2000)
        try v.check()
        let now = self.now
        note.status = .voided
        note.voidedAt = now
        note.voidReason = reason
        note.updatedAt = now
        audit?.changed(["status", "voidedAt", "voidReason"])
        try await store.updateDraft(note)
        return .ok(.init(body: .json(.init(note, visibility: .full))))
    }

    func signNote(_ input: Operations.SignNote.Input) async throws -> Operations.SignNote.Output {
        let principal = try RequestScope.principal()
        var (note, patient, _) = try await visibleNote(input.path.id)
        guard AccessPolicy.canSignNote(principal, note, patient: patient) else { throw DomainError.forbidden }
        try requireDraft(note, action: "signed")
        let now = self.now
        note.contentHash = NoteRules.contentHash(of: note, signedBy: principal.userID, signedAt: now)
        note.status = .signed
        note.signedAt = now
        note.signedBy = principal.userID
        note.updatedAt = now
        audit?.changed(["status", "signedAt", "signedBy", "contentHash"])
        try await store.updateDraft(note)
        return .ok(.init(body: .json(.init(note, visibility: .full))))
    }

    func createAddendum(_ input: Operations.CreateAddendum.Input) async throws -> Operations.CreateAddendum.Output {
        let principal = try RequestScope.principal()
        var (note, patient, _) = try await visibleNote(input.path.id)
        guard AccessPolicy.canAddAddendum(principal, note, patient: patient) else { throw DomainError.forbidden }
        guard note.status == .signed, let noteHash = note.contentHash else {
            throw DomainError.conflict("addenda are appended to signed notes; this note is \(note.status.rawValue)")
        }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var v = Validator()
        let text = v.text(body.text, "text", max: NoteRules.maximumSectionLength)
        try v.check()
        let now = self.now
        let id = UUID()
        // Each addendum chains to the one before it (or to the note), so none can be dropped unnoticed.
        let previous = note.addenda.last?.contentHash ?? noteHash
        let addendum = NoteAddendum(
            id: id, tenantID: note.tenantID, noteID: note.id, authorID: principal.userID, text: text!, signedAt: now,
            contentHash: NoteRules.addendumHash(
                noteHash: previous, addendumID: id, authorID: principal.userID,
                text: text!, signedAt: now))
        audit?.changed(["addenda"])
        audit?.detail("addendum \(id.uuidString.lowercased())")
        try await store.addAddendum(addendum)
        note.addenda.append(addendum)
        return .created(.init(body: .json(.init(note, visibility: .full))))
    }

    /// The note, its patient and how much of it the caller may read; 404 when they may not see it at all.
    private func visibleNote(_ rawID: String) async throws -> (ClinicalNote, Patient, NoteVisibility) {
        let principal = try RequestScope.principal()
        let id = try pathID(rawID)
        guard let note = try await store.find(id: id, tenantID: principal.tenantID) as ClinicalNote?,
            let patient = try await store.find(id: note.patientID, tenantID: principal.tenantID) as Patient?
        else { throw DomainError.notFound }
        audit?.patient(patient.id)
        var visibility = AccessPolicy.noteVisibility(principal, note, patient: patient)
        // Content the caller may not normally read opens only under an unexpired break-glass grant of their own.
        if visibility != .full, AccessPolicy.canBreakGlass(principal, note, patient: patient),
            let grant = try await store.activeGrant(userID: principal.userID, noteID: note.id, tenantID: principal.tenantID, at: Date())
        {
            visibility = .full
            audit?.detail("break-glass grant \(grant.id.uuidString.lowercased())")
        }
        guard let visibility else { throw DomainError.forbidden }
        return (note, patient, visibility)
    }

    private func requireDraft(_ note: ClinicalNote, action: String) throws {
        guard note.status == .draft else {
            let hint = note.status == .signed ? " Signed notes are locked; add an addendum instead." : ""
            throw DomainError.conflict("This note is \(note.status.rawValue) and cannot be \(action).\(hint)")
        }
    }

    private func checkAppointment(_ id: UUID?, belongsTo patient: Patient) async throws {
        guard let id else { return }
        guard let appointment = try await store.find(id: id, tenantID: patient.tenantID) as Appointment?, appointment.patientID == patient.id else {
            throw DomainError.invalid("appointmentId", "is not an appointment of this patient")
        }
    }
}
