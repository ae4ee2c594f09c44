import EHRDomain
import Foundation
import PostgresNIO
import SQLKit

struct NoteRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var patientId: UUID
    var authorId: UUID
    var appointmentId: UUID?
    var type: String
    var sections: String
    var status: String
    var signedAt: Date?
    var signedBy: UUID?
    var contentHash: String?
    var voidedAt: Date?
    var voidReason: String?
    var createdAt: Date
    var updatedAt: Date

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case patientId = "patient_id"
        case authorId = "author_id"
        case appointmentId = "appointment_id"
        case type
        case sections
        case status
        case signedAt = "signed_at"
        case signedBy = "signed_by"
        case contentHash = "content_hash"
        case voidedAt = "voided_at"
        case voidReason = "void_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// The note with its sections opened. A signed note (with its addenda) must still match the hashes taken
    /// at signing: a re-encrypted value swapped for an older one of the same row would open, but not match.
    func note(addenda: [NoteAddendum], _ keys: TenantKeys) throws -> ClinicalNote {
        guard let type = NoteType(rawValue: type) else { throw StorageError.corrupt("clinical_notes.type") }
        guard let status = NoteStatus(rawValue: status) else { throw StorageError.corrupt("clinical_notes.status") }
        let sections = try keys.open([String: String].self, sections, "clinical_notes", "sections", row: id) ?? [:]
        let note = ClinicalNote(
            id: id, tenantID: tenantId, patientID: patientId, authorID: authorId, appointmentID: appointmentId,
            type: type, sections: sections, status: status, signedAt: signedAt, signedBy: signedBy,
            contentHash: contentHash, voidedAt: voidedAt,
            voidReason: try keys.open(voidReason, "clinical_notes", "void_reason", row: id), addenda: addenda,
            createdAt: createdAt, updatedAt: updatedAt)
        if let failure = NoteRules.integrityFailure(of: note) { throw StorageError.integrityMismatch("clinical note \(failure)") }
        return note
    }
}

struct AddendumRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var noteId: UUID
    var authorId: UUID
    var text: String
    var signedAt: Date
    var contentHash: String

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case noteId = "note_id"
        case authorId = "author_id"
        case text
        case signedAt = "signed_at"
        case contentHash = "content_hash"
    }

    func addendum(_ keys: TenantKeys) throws -> NoteAddendum {
        NoteAddendum(
            id: id, tenantID: tenantId, noteID: noteId, authorID: authorId, text: try keys.open(text, "note_addenda", "text", row: id),
            signedAt: signedAt, contentHash: contentHash)
    }
}

extension SQLStore: NoteRepository {
    public func find(id: UUID, tenantID: UUID) async throws -> ClinicalNote? {
        guard
            let row = try await sql.raw("SELECT * FROM clinical_notes WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)")
                .first(decoding: NoteRow.self, with: Self.decoder)
        else { return nil }
        let addenda = try await addendumRows(of: [row.id], tenantID: tenantID)
        return try await opening(tenantID) { keys in
            try row.note(addenda: try (addenda[row.id] ?? []).map { try $0.addendum(keys) }, keys)
        }
    }

    public func list(scope: NoteScope, filter: NoteFilter, page: PageRequest) async throws -> Page<ClinicalNote> {
        var query: SQLQueryString = "SELECT * FROM clinical_notes WHERE "
        let tenantID: UUID
        switch scope {
        case .tenantMetadata(let tenant):
            tenantID = tenant
            query += "tenant_id = \(bind: tenant)"
        case .assignedTo(let tenant, let therapistID):
            tenantID = tenant
            query +=
                "tenant_id = \(bind: tenant) AND patient_id IN (SELECT id FROM patients WHERE tenant_id = \(bind: tenant) AND assigned_therapist_id = \(bind: therapistID))"
                + " AND (status <> 'draft' OR author_id = \(bind: therapistID))"
        case .portalUserSigned(let tenant, let userID):
            tenantID = tenant
            query +=
                "tenant_id = \(bind: tenant) AND status = 'signed' AND patient_id IN (SELECT id FROM patients WHERE tenant_id = \(bind: tenant) AND user_id = \(bind: userID))"
        }
        if let patient = filter.patientID { query += " AND patient_id = \(bind: patient)" }
        if let status = filter.status { query += " AND status = \(bind: status.rawValue)" }
        if let type = filter.type { query += " AND type = \(bind: type.rawValue)" }
        query += after(page.after, column: "created_at", descending: true) + " ORDER BY created_at DESC, id DESC"
        let rows = try await sql.raw(query + " LIMIT \(literal: page.limit + 1)").all(decoding: NoteRow.self, with: Self.decoder)
        let visible = Array(rows.prefix(page.limit))
        let addenda = try await addendumRows(of: visible.map(\.id), tenantID: tenantID)
        let items = try await opening(tenantID) { keys in
            try visible.map { row in try row.note(addenda: try (addenda[row.id] ?? []).map { try $0.addendum(keys) }, keys) }
        }
        let next = rows.count > page.limit ? items.last.map { PageCursor(key: $0.createdAt, id: $0.id) } : nil
        return Page(items: items, next: next)
    }

    public func create(_ note: ClinicalNote) async throws {
        let insert = try await sealedRow(of: note)
        if try await writeWithPendingEvent({ InsertNoteAudited(note: insert, event: $0) }, written: { _ in true }) == true { return }
        try await write { db in
            if let postgres = db as? any PostgresDatabase {
                for try await _ in try await EHRDatabase.postgresConnection(of: postgres).execute(insert, logger: postgres.logger) {}
                return
            }
            try await db.raw(
                """
                INSERT INTO clinical_notes (id, tenant_id, patient_id, author_id, appointment_id, type, sections, status, signed_at, signed_by,
                    content_hash, voided_at, void_reason, created_at, updated_at, key_version)
                VALUES (\(bind: note.id), \(bind: note.tenantID), \(bind: note.patientID), \(bind: note.authorID), \(bind: note.appointmentID),
                    \(bind: note.type.rawValue), \(bind: insert.sections), \(bind: note.status.rawValue), \(bind: note.signedAt.map(millisecondPrecision)),
                    \(bind: note.signedBy), \(bind: note.contentHash), \(bind: note.voidedAt.map(millisecondPrecision)), \(bind: insert.voidReason),
                    \(bind: millisecondPrecision(note.createdAt)), \(bind: millisecondPrecision(note.updatedAt)), \(bind: insert.keyVersion))
                """
            ).run()
        }
    }

    /// PostgreSQL, with a request's event pending: writes `note` and the event only if, as the write runs, the
    /// note's patient is in its practice, assigned to its author and not discharged, and its appointment (if any)
    /// is that patient's (``InsertNoteIfWritable``). True when written; false when a check failed and nothing was
    /// written (the caller asks again step by step, for the answer to give); nil when this path does not apply
    /// (SQLite, no pending event: the caller checks first and then calls ``create(_:)``).
    public func createIfAuthorMayWrite(_ note: ClinicalNote) async throws -> Bool? {
        guard database.dialect == .postgres, TransactionAudit.current != nil else { return nil }
        let insert = try await sealedRow(of: note)
        return try await writeWithPendingEvent({ InsertNoteIfWritable(note: insert, event: $0) }, written: { $0 == 1 })
    }

    /// `note`'s row, its sections and void reason sealed with the practice's current key.
    private func sealedRow(of note: ClinicalNote) async throws -> InsertNote {
        let keys = try await vault.keys(for: note.tenantID)
        let sections = try keys.seal(members: note.sections, "clinical_notes", "sections", row: note.id)
        let voidReason = try keys.seal(note.voidReason, "clinical_notes", "void_reason", row: note.id)
        return InsertNote(note: note, sections: sections, voidReason: voidReason, keyVersion: keys.currentVersion)
    }

    /// PostgreSQL, with a request's event pending: runs the statement `statement` makes of the event, in the
    /// request's scope, instead of a transaction around the write and the event; `written` tells from the rows it
    /// answered whether it wrote them. Nil when this path does not apply (SQLite, no pending event).
    private func writeWithPendingEvent<Statement: NoteWithEvent>(
        _ statement: (AuditPostgres.InsertInbox) -> Statement, written: @escaping @Sendable (Int) -> Bool
    ) async throws -> Bool? {
        guard database.dialect == .postgres, let auditLog, let pending = TransactionAudit.current, let draft = pending.draftForCommit()
        else { return nil }
        let statement = statement(auditLog.inboxInsert([draft]))
        let rows = try await database.withScopedConnection { connection, logger in
            var rows = 0
            for try await _ in try await connection.execute(statement, logger: logger) { rows += 1 }
            return rows
        }
        guard let rows else { return nil }
        guard written(rows) else { return false }
        auditLog.didEnqueue(1)
        pending.didCommit()
        return true
    }

    public func updateDraft(_ note: ClinicalNote) async throws {
        struct IDRow: Decodable { var id: UUID }
        let keys = try await vault.keys(for: note.tenantID)
        let sections = try keys.seal(members: note.sections, "clinical_notes", "sections", row: note.id)
        let voidReason = try keys.seal(note.voidReason, "clinical_notes", "void_reason", row: note.id)
        // The status condition makes this a compare-and-set: two racing signers cannot both succeed.
        try await write { db in
            let updated = try await db.raw(
                """
                UPDATE clinical_notes SET appointment_id = \(bind: note.appointmentID), type = \(bind: note.type.rawValue), sections = \(bind: sections),
                    status = \(bind: note.status.rawValue), signed_at = \(bind: note.signedAt.map(millisecondPrecision)), signed_by = \(bind: note.signedBy),
                    content_hash = \(bind: note.contentHash), voided_at = \(bind: note.voidedAt.map(millisecondPrecision)), void_reason = \(bind: voidReason),
                    updated_at = \(bind: millisecondPrecision(note.updatedAt)), key_version = \(bind: keys.currentVersion)
                WHERE tenant_id = \(bind: note.tenantID) AND id = \(bind: note.id) AND status = 'draft'
                RETURNING id
                """
            ).all(decoding: IDRow.self)
            if updated.isEmpty { throw DomainError.conflict("the note is no longer a draft and cannot change") }
        }
    }

    public func addAddendum(_ addendum: NoteAddendum) async throws {
        let keys = try await vault.keys(for: addendum.tenantID)
        let text = try keys.seal(addendum.text, "note_addenda", "text", row: addendum.id)
        try await write { db in
            try await db.raw(
                """
                INSERT INTO note_addenda (id, tenant_id, note_id, author_id, text, signed_at, content_hash, key_version)
                VALUES (\(bind: addendum.id), \(bind: addendum.tenantID), \(bind: addendum.noteID), \(bind: addendum.authorID), \(bind: text),
                    \(bind: millisecondPrecision(addendum.signedAt)), \(bind: addendum.contentHash), \(bind: keys.currentVersion))
                """
            ).run()
        }
    }

    private func addendumRows(of noteIDs: [UUID], tenantID: UUID) async throws -> [UUID: [AddendumRow]] {
        guard !noteIDs.isEmpty else { return [:] }
        let rows = try await sql.raw(
            """
            SELECT * FROM note_addenda WHERE tenant_id = \(bind: tenantID) AND note_id IN (\(binds: noteIDs)) ORDER BY signed_at, id
            """
        ).all(decoding: AddendumRow.self, with: Self.decoder)
        return Dictionary(grouping: rows, by: \.noteId)
    }
}
