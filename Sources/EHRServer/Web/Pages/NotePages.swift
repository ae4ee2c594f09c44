import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird

/// Notes: the editor with a template per note type, drafts, signing (with its confirmation), addenda and break-glass.
extension WebApp {
    func newNote(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let patient = try await useCases.patient(principal, id: try routeID(context))
        guard AccessPolicy.canCreateNote(principal, patient: patient) else { throw DomainError.forbidden }
        let type = request.uri.queryParameters.get("type").flatMap(NoteType.init(rawValue:)) ?? .soap
        return noteForm(context, patientID: patient.id, patientName: "\(patient.firstName) \(patient.lastName)", type: type, sections: [:])
    }

    /// The editor: one labelled text area per section of the note type.
    func noteForm(
        _ context: AppRequestContext, patientID: UUID, patientName: String, type: NoteType, sections: [String: String], noteID: UUID? = nil,
        errors: [FieldError] = [], status: HTTPResponse.Status = .ok
    ) -> Response {
        let messages = Self.errorMap(errors)
        let values: [String: Any] = [
            "patientId": patientID.wire, "patientName": patientName, "type": type.rawValue, "typeName": WebFormat.noteTypeNames[type]!,
            "noteId": noteID?.wire ?? "", "editing": noteID != nil,
            "sections": NoteRules.sectionKeys(for: type).map { key in
                ["key": key, "title": WebFormat.sectionTitles[key] ?? key, "text": sections[key] ?? "", "error": messages["sections.\(key)"] ?? ""]
            },
            "formError": messages["sections"] ?? "",
        ]
        return page("note-form", noteID == nil ? "New note" : "Edit draft", context, values, status: status)
    }

    /// The sections of a posted editor form, empty ones left out.
    private func sections(_ form: WebForm, type: NoteType) -> [String: String] {
        var sections: [String: String] = [:]
        for key in NoteRules.sectionKeys(for: type) {
            if let text = form.nonBlank("section.\(key)") { sections[key] = text }
        }
        return sections
    }

    func createNote(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let form = context.form ?? WebForm("")
        let type = form["type"].flatMap(NoteType.init(rawValue:)) ?? .soap
        let sections = sections(form, type: type)
        do {
            let note = try await useCases.createNote(principal, NoteInput(patientID: form["patientId"], appointmentID: nil, type: type, sections: sections))
            return WebRenderer.redirect("/app/notes/\(note.id.wire)")
        } catch DomainError.validation(let errors) {
            let patient = try await useCases.patient(principal, id: UUID(uuidString: form["patientId"] ?? "") ?? UUID())
            return noteForm(
                context, patientID: patient.id, patientName: "\(patient.firstName) \(patient.lastName)", type: type, sections: sections, errors: errors,
                status: .unprocessableContent)
        }
    }

    func note(_ context: AppRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try session(context).principal
        let id = try routeID(context)
        let found: (ClinicalNote, Patient, NoteVisibility)
        do {
            found = try await useCases.note(principal, id: id)
        } catch DomainError.forbidden {
            // A colleague who may break glass sees only the form that asks why (no content, no patient).
            guard let note = try await useCases.breakGlassCandidate(principal, id: id) else { throw DomainError.forbidden }
            var values: [String: Any] = [
                "id": note.id.wire, "type": WebFormat.noteTypeNames[note.type] ?? "Note", "contentHidden": true, "canBreakGlass": true,
            ]
            values["status"] = note.status.rawValue
            values["restricted"] = true
            values.merge(extra) { _, new in new }
            return page("note", "Note", context, values, status: status)
        }
        let (note, patient, visibility) = found
        let zone = try await practiceZone(principal)
        var values = noteRow(note, zone: zone)
        values["patientId"] = patient.id.wire
        values["patientName"] = AccessPolicy.canViewPatient(principal, patient) ? "\(patient.firstName) \(patient.lastName)" : "Patient"
        values["draft"] = note.status == .draft
        values["signed"] = note.status == .signed
        values["signedAt"] = note.signedAt.map { WebFormat.moment($0, in: zone) }
        values["voidReason"] = note.voidReason
        if visibility == .full {
            values["sections"] = NoteRules.sectionKeys(for: note.type).compactMap { key in
                note.sections[key].map { ["title": WebFormat.sectionTitles[key] ?? key, "text": $0] }
            }
            values["addenda"] = note.addenda.map { ["text": $0.text, "when": WebFormat.moment($0.signedAt, in: zone)] }
            values["hasAddenda"] = !note.addenda.isEmpty
        } else {
            values["contentHidden"] = true
            values["canBreakGlass"] = AccessPolicy.canBreakGlass(principal, note, patient: patient)
        }
        values["canEdit"] = AccessPolicy.canEditNote(principal, note, patient: patient) && note.status == .draft
        values["canAddendum"] = AccessPolicy.canAddAddendum(principal, note, patient: patient) && note.status == .signed
        values["portal"] = principal.role == .client
        values.merge(extra) { _, new in new }
        return page("note", "Note", context, values, status: status)
    }

    /// Saves the draft, or opens the editor on it (`action=edit`).
    func saveNote(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let id = try routeID(context)
        let form = context.form ?? WebForm("")
        let (note, patient, _) = try await useCases.note(principal, id: id)
        if form["action"] == "edit" {
            guard AccessPolicy.canEditNote(principal, note, patient: patient) else { throw DomainError.forbidden }
            return noteForm(
                context, patientID: patient.id, patientName: "\(patient.firstName) \(patient.lastName)", type: note.type, sections: note.sections, noteID: id)
        }
        let sections = sections(form, type: note.type)
        do {
            _ = try await useCases.updateNote(principal, id: id, NoteChanges(sections: sections))
            return WebRenderer.redirect("/app/notes/\(id.wire)")
        } catch DomainError.validation(let errors) {
            return noteForm(
                context, patientID: patient.id, patientName: "\(patient.firstName) \(patient.lastName)", type: note.type, sections: sections, noteID: id,
                errors: errors, status: .unprocessableContent)
        }
    }

    /// Signs after the confirmation box was ticked; without it, asks again.
    func signNote(_ context: AppRequestContext) async throws -> Response {
        let id = try routeID(context)
        guard context.form?["confirm"] == "yes" else {
            return try await note(context, values: ["signError": "Tick the box to confirm: a signed note can no longer change."], status: .unprocessableContent)
        }
        _ = try await useCases.signNote(try session(context).principal, id: id)
        return WebRenderer.redirect("/app/notes/\(id.wire)")
    }

    func addAddendum(_ context: AppRequestContext) async throws -> Response {
        let id = try routeID(context)
        do {
            _ = try await useCases.addAddendum(try session(context).principal, noteID: id, text: context.form?["text"])
        } catch DomainError.validation(let errors) {
            return try await note(context, values: ["addendumError": errors.map(\.message).joined(separator: "; ")], status: .unprocessableContent)
        }
        return WebRenderer.redirect("/app/notes/\(id.wire)")
    }

    func breakGlass(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let id = try routeID(context)
        do {
            let (grant, _) = try await useCases.breakGlass(principal, noteID: id, reason: context.form?["reason"])
            let zone = try await practiceZone(principal)
            return try await note(context, values: ["grantUntil": WebFormat.moment(grant.expiresAt, in: zone)])
        } catch DomainError.validation(let errors) {
            return try await note(context, values: ["breakGlassError": errors.map(\.message).joined(separator: "; ")], status: .unprocessableContent)
        }
    }
}
