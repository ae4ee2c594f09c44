import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EHRServer

/// On PostgreSQL a new note's checks (its patient in the practice, assigned to the author, not discharged; its
/// appointment that patient's) are asked in the note's own INSERT (``InsertNoteIfWritable``), elsewhere step by
/// step before it. Every backend gives the same answer, writes the same rows and records the same event for
/// each case, and the statement refuses what the step-by-step checks refuse, even when the patient changed
/// after the caller looked.
@Suite("A new note's checks, in its INSERT or before it")
struct NoteCreationChecksTests {
    let demo = TestWorld.demo

    /// One attempt and what it must give.
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var patient: UUID
        var appointment: UUID?
        var status: Int
        /// The field a 422 names.
        var field: String?
        /// The event's outcome and patient.
        var outcome: String
        var eventPatient: UUID?
    }

    var cases: [Case] {
        let other = TestWorld.other
        return [
            Case(description: "own patient", patient: demo.john, status: 201, outcome: "allowed", eventPatient: demo.john),
            Case(
                description: "own patient, their appointment", patient: demo.john, appointment: demo.johnAppointment, status: 201,
                outcome: "allowed", eventPatient: demo.john),
            Case(
                description: "another therapist's patient", patient: demo.bob, status: 404, outcome: "denied", eventPatient: demo.bob),
            Case(description: "another practice's patient", patient: other.john, status: 404, outcome: "not_found", eventPatient: nil),
            Case(description: "no such patient", patient: UUID(), status: 404, outcome: "not_found", eventPatient: nil),
            Case(
                description: "own patient, another patient's appointment", patient: demo.john, appointment: demo.bobAppointment, status: 422,
                field: "appointmentId", outcome: "error", eventPatient: demo.john),
            Case(
                description: "own patient, no such appointment", patient: demo.john, appointment: UUID(), status: 422, field: "appointmentId",
                outcome: "error", eventPatient: demo.john),
            Case(
                description: "own patient, another practice's appointment", patient: demo.john, appointment: other.johnAppointment,
                status: 422, field: "appointmentId", outcome: "error", eventPatient: demo.john),
        ]
    }

    /// The event's columns this suite compares.
    struct Event: Decodable, Equatable {
        var outcome: String
        var patient_id: String?
        var resource_id: String?
        var changed_fields: String?
    }

    @Test(arguments: TestBackend.all)
    func everyCaseAnswersAndRecordsAlike(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for c in cases {
                let notesBefore = try await noteCount(world)
                var body: [String: Any] = ["patientId": c.patient.lowercasedString, "type": "progress", "sections": ["narrative": "Session"]]
                if let appointment = c.appointment { body["appointmentId"] = appointment.lowercasedString }
                let reply = try await world.call(.post, "/api/v1/notes", as: .smith, json: body)
                #expect(Int(reply.status.code) == c.status, "\(c): \(reply.status.code) \(reply.text)")
                if let field = c.field { #expect(reply.problemFields == [field], "\(c): \(reply.text)") }
                let created = reply.json["id"] as? String
                #expect(try await noteCount(world) == notesBefore + (c.status == 201 ? 1 : 0), "\(c)")
                let requestID = try #require(reply.headers[HTTPField.Name("X-Request-Id")!], "\(c)")
                let events = try await events(world, requestID: requestID)
                #expect(events.count == 1, "\(c): one event per request, got \(events.count)")
                guard let event = events.first else { continue }
                #expect(event.outcome == c.outcome, "\(c)")
                #expect(event.patient_id == c.eventPatient?.lowercasedString, "\(c)")
                if c.status == 201 {
                    #expect(event.resource_id == created, "\(c)")
                    let fields = c.appointment == nil ? "patientId,sections,type" : "appointmentId,patientId,sections,type"
                    #expect(event.changed_fields.map(Self.names) == fields, "\(c): \(event.changed_fields ?? "nil")")
                } else {
                    // A refused create names no record and no change, however far the INSERT got.
                    #expect(event.resource_id == nil, "\(c): \(event.resource_id ?? "")")
                    #expect(event.changed_fields.map(Self.names) ?? "" == "", "\(c): \(event.changed_fields ?? "")")
                }
            }
        }
    }

    /// The patient discharged, or given to another therapist, after the author's last look: the INSERT itself
    /// refuses (PostgreSQL), and the answer is the step-by-step check's.
    @Test(arguments: TestBackend.all)
    func aPatientChangedMeanwhileIsRefused(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let smithsNotes = try await noteCount(world, author: demo.smith, patients: [demo.jane, demo.john])
            #expect(try await world.call(.get, "/api/v1/patients/\(demo.jane.lowercasedString)", as: .smith).status == .ok)
            #expect(try await world.call(.delete, "/api/v1/patients/\(demo.jane.lowercasedString)", as: .admin, json: ["reason": "Moved away"]).status == .ok)
            let discharged = try await world.call(
                .post, "/api/v1/notes", as: .smith, json: ["patientId": demo.jane.lowercasedString, "type": "progress", "sections": ["narrative": "x"]])
            #expect(discharged.status.code == 422 && discharged.problemFields == ["patientId"], "\(discharged.text)")

            #expect(try await world.call(.get, "/api/v1/patients/\(demo.john.lowercasedString)", as: .smith).status == .ok)
            let moved = try await world.call(
                .patch, "/api/v1/patients/\(demo.john.lowercasedString)", as: .admin, json: ["assignedTherapistId": demo.johnson.lowercasedString])
            #expect(moved.status == .ok, "\(moved.text)")
            let reassigned = try await world.call(
                .post, "/api/v1/notes", as: .smith, json: ["patientId": demo.john.lowercasedString, "type": "progress", "sections": ["narrative": "x"]])
            #expect(reassigned.status == .notFound, "\(reassigned.text)")
            #expect(try await noteCount(world, author: demo.smith, patients: [demo.jane, demo.john]) == smithsNotes)
        }
    }

    /// Twenty notes for John racing his reassignment to Dr. Johnson: every 201 left exactly its note and one event,
    /// every 404 neither, whichever side of the reassignment each landed on.
    @Test(arguments: TestBackend.all)
    func notesRacingAReassignmentAreWholeOrAbsent(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let before = try await noteCount(world, author: demo.smith, patients: [demo.john])
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for i in 0..<20 {
                    group.addTask {
                        let reply = try await world.call(
                            .post, "/api/v1/notes", as: .smith,
                            json: ["patientId": demo.john.lowercasedString, "type": "progress", "sections": ["narrative": "n\(i)"]])
                        return (Int(reply.status.code), reply.headers[HTTPField.Name("X-Request-Id")!])
                    }
                }
                group.addTask {
                    let moved = try await world.call(
                        .patch, "/api/v1/patients/\(demo.john.lowercasedString)", as: .admin, json: ["assignedTherapistId": demo.johnson.lowercasedString])
                    return (moved.status == .ok ? 0 : -1, nil)
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.contains { $0.0 == 0 }, "the reassignment went through")
            let notes = statuses.filter { $0.0 != 0 }
            #expect(notes.allSatisfy { $0.0 == 201 || $0.0 == 404 }, "\(notes.map(\.0))")
            let created = notes.filter { $0.0 == 201 }.count
            #expect(try await noteCount(world, author: demo.smith, patients: [demo.john]) == before + created)
            for (status, requestID) in notes {
                let events = try await events(world, requestID: try #require(requestID))
                #expect(events.count == 1)
                #expect(events.first?.outcome == (status == 201 ? "allowed" : "denied"), "\(status)")
                #expect((events.first?.resource_id != nil) == (status == 201))
            }
        }
    }

    /// The statement alone, in the practice's scope with a request's event pending: it writes the note and the
    /// event for the assigned therapist, and neither for another therapist of the practice.
    @Test(arguments: TestBackend.all.filter { $0 != .sqlite })
    func theStatementWritesNothingItRefuses(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for (author, expected) in [(demo.johnson, false), (demo.smith, true)] {
                let note = ClinicalNote(tenantID: demo.tenantID, patientID: demo.john, authorID: author, type: .progress, sections: ["narrative": "x"])
                let pending = AuditedNoteInsertTests.Pending(
                    AuditEventDraft(
                        tenantID: demo.tenantID, actorID: author.lowercasedString, actorRole: "therapist", action: "note.create", resourceType: "note",
                        resourceID: note.id.lowercasedString, patientID: demo.john, outcome: .allowed, requestID: "req-\(UUID().lowercasedString)"))
                let written = try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                    try await TransactionAudit.$current.withValue(pending) { try await world.services.store.createIfAuthorMayWrite(note) }
                }
                #expect(written == expected)
                #expect(pending.isCommitted == expected)
                let stored = try await world.storedEvents().filter { $0.request_id == pending.draft.requestID }
                #expect(stored.count == (expected ? 1 : 0))
                let found: ClinicalNote? = try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                    try await (world.services.store as any NoteRepository).find(id: note.id, tenantID: demo.tenantID)
                }
                #expect((found != nil) == expected)
            }
        }
    }

    // MARK: Helpers

    /// Changed fields as stored (a JSON array on both backends), as a comma-separated list.
    static func names(_ stored: String) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(stored.utf8))) as? [String] ?? []).joined(separator: ",")
    }

    private func events(_ world: TestWorld, requestID: String) async throws -> [Event] {
        try await world.sealAudit()
        return try await world.owner.sql.raw(
            "SELECT outcome, patient_id, resource_id, changed_fields FROM audit_events WHERE request_id = \(bind: requestID)"
        ).all(decoding: Event.self)
    }

    private func noteCount(_ world: TestWorld) async throws -> Int {
        struct Row: Decodable { var count: Int }
        return try await world.owner.sql.raw("SELECT COUNT(*) AS count FROM clinical_notes").first(decoding: Row.self)?.count ?? -1
    }

    private func noteCount(_ world: TestWorld, author: UUID, patients: [UUID]) async throws -> Int {
        struct Row: Decodable { var count: Int }
        var total = 0
        for patient in patients {
            total +=
                try await world.owner.sql.raw(
                    "SELECT COUNT(*) AS count FROM clinical_notes WHERE author_id = \(bind: author) AND patient_id = \(bind: patient)"
                ).first(decoding: Row.self)?.count ?? -1
        }
        return total
    }
}
