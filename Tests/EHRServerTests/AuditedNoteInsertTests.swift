import EHRDomain
import EHRPersistence
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Testing

@testable import EHRServer

/// A new note and its audit event are written together or not at all. On PostgreSQL they go in one statement
/// (``InsertNoteAudited``), elsewhere in one transaction; either way a failure of one leaves neither.
@Suite("A note and its audit event, together")
struct AuditedNoteInsertTests {
    let demo = TestWorld.demo

    /// The request's pending event, as the audit middleware hands it to the repositories.
    final class Pending: PendingAuditEvent {
        let draft: AuditEventDraft
        private let committed = NIOLockedValueBox(false)
        init(_ draft: AuditEventDraft) { self.draft = draft }
        func draftForCommit() -> AuditEventDraft? { committed.withLockedValue { $0 } ? nil : draft }
        func didCommit() { committed.withLockedValue { $0 = true } }
        var isCommitted: Bool { committed.withLockedValue { $0 } }
    }

    private func note(patient: UUID) -> ClinicalNote {
        ClinicalNote(tenantID: demo.tenantID, patientID: patient, authorID: demo.smith, type: .progress, sections: ["narrative": "Session"])
    }

    private func event(for note: ClinicalNote, tenant: UUID? = nil) -> AuditEventDraft {
        AuditEventDraft(
            tenantID: tenant ?? note.tenantID, actorID: demo.smith.lowercasedString, actorRole: "therapist", action: "note.create",
            resourceType: "note", resourceID: note.id.lowercasedString, patientID: note.patientID, outcome: .allowed,
            requestID: "req-\(UUID().lowercasedString)", changedFields: ["patientId", "sections", "type"])
    }

    /// Creates `note` in the practice's scope with `pending` as the request's event.
    private func create(_ note: ClinicalNote, _ pending: Pending, in world: TestWorld) async throws {
        try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
            try await TransactionAudit.$current.withValue(pending) { try await world.services.store.create(note) }
        }
    }

    private func stored(_ note: ClinicalNote, _ pending: Pending, in world: TestWorld) async throws -> (note: Bool, events: Int) {
        let found: ClinicalNote? = try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
            try await (world.services.store as any NoteRepository).find(id: note.id, tenantID: demo.tenantID)
        }
        let events = try await world.storedEvents().filter { $0.request_id == pending.draft.requestID }
        return (found != nil, events.count)
    }

    @Test(arguments: TestBackend.all)
    func aNoteIsWrittenWithExactlyItsEvent(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let note = note(patient: demo.john)
            let pending = Pending(event(for: note))
            try await create(note, pending, in: world)
            #expect(pending.isCommitted, "the middleware must not record the event a second time")
            let (found, events) = try await stored(note, pending, in: world)
            #expect(found && events == 1)
        }
    }

    /// The note cannot be written (its patient does not exist): its event is not written either.
    @Test(arguments: TestBackend.all)
    func aRefusedNoteLeavesNoEvent(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let note = note(patient: UUID())
            let pending = Pending(event(for: note))
            await #expect(throws: (any Error).self) { try await create(note, pending, in: world) }
            #expect(!pending.isCommitted)
            let (found, events) = try await stored(note, pending, in: world)
            #expect(!found && events == 0)
        }
    }

    /// The event cannot be written (it names a practice that does not exist, outside the request's scope): the
    /// note is not written either. PostgreSQL refuses such an event (row-level security: it is outside the scope).
    @Test(arguments: TestBackend.all.filter { $0 != .sqlite })
    func aRefusedEventLeavesNoNote(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let note = note(patient: demo.john)
            let pending = Pending(event(for: note, tenant: UUID()))
            await #expect(throws: (any Error).self) { try await create(note, pending, in: world) }
            #expect(!pending.isCommitted)
            let (found, events) = try await stored(note, pending, in: world)
            #expect(!found && events == 0)
        }
    }
}
