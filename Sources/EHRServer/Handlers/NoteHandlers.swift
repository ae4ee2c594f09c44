import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

/// Notes: wire types in, ``UseCases`` calls, wire types out.
extension APIHandler {
    func listNotes(_ input: Operations.ListNotes.Input) async throws -> Operations.ListNotes.Output {
        let principal = try RequestScope.principal()
        let q = input.query
        let page = try pageRequest(limit: q.limit, cursor: q.cursor, list: .notes)
        let filter = NoteFilter(
            patientID: try queryID(q.patientId, field: "patientId"),
            status: q.status.flatMap { NoteStatus(rawValue: $0.rawValue) },
            type: q._type.flatMap { NoteType(rawValue: $0.rawValue) })
        let (result, visibility) = try await useCases.notes(principal, filter: filter, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, visibility: visibility) }, nextCursor: nextCursor(result, list: .notes)))))
    }

    func createNote(_ input: Operations.CreateNote.Input) async throws -> Operations.CreateNote.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        return .created(.init(body: .json(try await createdNote(body))))
    }

    /// The note `body` creates, as the generated route and the direct one (``HotRouteTransport``) answer it.
    func createdNote(_ body: Components.Schemas.CreateNoteRequest) async throws -> Components.Schemas.Note {
        let note = try await useCases.createNote(
            try RequestScope.principal(),
            NoteInput(
                patientID: body.patientId, appointmentID: optionalID(body.appointmentId), type: NoteType(rawValue: body._type.rawValue)!,
                sections: body.sections.additionalProperties))
        return .init(note, visibility: .full)
    }

    func getNote(_ input: Operations.GetNote.Input) async throws -> Operations.GetNote.Output {
        let (note, _, visibility) = try await useCases.note(try RequestScope.principal(), id: try pathID(input.path.id))
        return .ok(.init(body: .json(.init(note, visibility: visibility))))
    }

    func updateNote(_ input: Operations.UpdateNote.Input) async throws -> Operations.UpdateNote.Output {
        let principal = try RequestScope.principal()
        let id = try pathID(input.path.id)
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let changes = NoteChanges(
            type: body._type.flatMap { NoteType(rawValue: $0.rawValue) }, sections: body.sections?.additionalProperties,
            appointmentID: optionalID(body.appointmentId))
        return .ok(.init(body: .json(.init(try await useCases.updateNote(principal, id: id, changes), visibility: .full))))
    }

    func voidNote(_ input: Operations.VoidNote.Input) async throws -> Operations.VoidNote.Output {
        let principal = try RequestScope.principal()
        let reason: String? = if case .json(let body) = input.body { body.reason } else { nil }
        return .ok(.init(body: .json(.init(try await useCases.voidNote(principal, id: try pathID(input.path.id), reason: reason), visibility: .full))))
    }

    func signNote(_ input: Operations.SignNote.Input) async throws -> Operations.SignNote.Output {
        let note = try await useCases.signNote(try RequestScope.principal(), id: try pathID(input.path.id))
        return .ok(.init(body: .json(.init(note, visibility: .full))))
    }

    func createAddendum(_ input: Operations.CreateAddendum.Input) async throws -> Operations.CreateAddendum.Output {
        let text: String? = if case .json(let body) = input.body { body.text } else { nil }
        let note = try await useCases.addAddendum(try RequestScope.principal(), noteID: try pathID(input.path.id), text: text)
        return .created(.init(body: .json(.init(note, visibility: .full))))
    }
}
