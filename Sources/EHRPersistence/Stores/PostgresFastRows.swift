import EHRDomain
import FluentKit
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Hot statements each PostgreSQL connection prepares once: no parse or plan per request, and rows decoded
/// straight from PostgresNIO (SQLKit's `Codable` row decoding of the busiest list cost more than the query).
/// Other dialects get nil and take the general path, whose SQL has the same shape.
enum PostgresFastRows {
    /// Every row of `statement`, run in the current task's ``DatabaseScope``; nil on SQLite.
    static func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, reserving capacity: Int = 1, on database: EHRDatabase
    ) async throws -> [Statement.Row]? where Statement.Row: Sendable {
        try await database.withScopedConnection { connection, logger in
            var rows: [Statement.Row] = []
            rows.reserveCapacity(capacity)
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// A therapist's upcoming appointments (the hottest list).
    static func appointments(_ statement: UpcomingForTherapist, on database: EHRDatabase) async throws -> [AppointmentRow]? {
        try await rows(statement, reserving: statement.limit, on: database)
    }
}

/// A therapist's upcoming appointments, theirs or their patients' (the two arms of the therapist scope, each
/// an ordered read of its own index), after a keyset position: the same SQL shape as the general path.
struct UpcomingForTherapist: PostgresPreparedStatement {
    static let columns = SQLStore.columns
    static let conditions =
        "AND (a.starts_at, a.id) > ($3, $4) AND a.ends_at > $5 AND a.status NOT IN ('cancelled', 'completed', 'no_show') ORDER BY a.starts_at, a.id LIMIT $6"
    static let sql = """
        SELECT * FROM (SELECT \(columns) FROM appointments a WHERE a.tenant_id = $1 AND a.therapist_id = $2 \(conditions)) AS mine \
        UNION ALL SELECT * FROM (SELECT \(columns) FROM appointments a WHERE a.tenant_id = $1 AND a.care_therapist_id = $2 \
        AND a.care_therapist_id <> a.therapist_id \(conditions)) AS theirs ORDER BY starts_at, id LIMIT $6
        """
    static let name = "ehr_upcoming_for_therapist_v1"
    static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid, .timestamptz, .uuid, .timestamptz, .int8]
    typealias Row = AppointmentRow

    let tenantID: UUID
    let therapistID: UUID
    let now: Date
    /// The keyset position: the cursor, or the earliest start an unfinished appointment can have.
    let afterKey: Date
    let afterID: UUID
    let limit: Int

    init(tenantID: UUID, therapistID: UUID, now: Date, after cursor: PageCursor?, limit: Int) {
        self.tenantID = tenantID
        self.therapistID = therapistID
        self.now = now
        let earliest = now.addingTimeInterval(-AppointmentRules.maximumDuration)
        if let cursor, cursor.key >= earliest {
            (afterKey, afterID) = (cursor.key, cursor.id)
        } else {
            (afterKey, afterID) = (earliest, UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        }
        self.limit = limit
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(tenantID)
        bindings.append(therapistID)
        bindings.append(afterKey)
        bindings.append(afterID)
        bindings.append(now)
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> AppointmentRow {
        if let direct = AppointmentRow(binary: row) { return direct }
        return try Self.decodeGenerically(row)
    }

    /// PostgresNIO's own decoding of the row (its variadic tuple decoding: 5.7% of the server's samples in
    /// `bench/profile` for 21 rows a request), for cells ``AppointmentRow/init(binary:)`` does not read.
    static func decodeGenerically(_ row: PostgresRow) throws -> AppointmentRow {
        let (id, tenantID, patientID, therapistID, startsAt, endsAt, timeZone, status, kind, reason, cancellation, createdAt, updatedAt) =
            try row.decode((UUID, UUID, UUID, UUID, Date, Date, String, String, String, String?, String?, Date, Date).self)
        return AppointmentRow(
            id: id, tenantId: tenantID, patientId: patientID, therapistId: therapistID, startsAt: startsAt, endsAt: endsAt,
            timeZone: timeZone, status: status, kind: kind, reason: reason, cancellationReason: cancellation,
            createdAt: createdAt, updatedAt: updatedAt)
    }
}

extension AppointmentRow {
    /// The row read straight from its binary cells (what the prepared statement receives): nil unless every
    /// column has the binary format and the type the list selects, so anything else takes PostgresNIO's
    /// decoding. Values are computed as PostgresNIO computes them (`TherapistListTests` compares the two).
    init?(binary row: PostgresRow) {
        var cells = row.makeIterator()
        guard let id = cells.next().flatMap(Self.uuid), let tenantID = cells.next().flatMap(Self.uuid),
            let patientID = cells.next().flatMap(Self.uuid), let therapistID = cells.next().flatMap(Self.uuid),
            let startsAt = cells.next().flatMap(Self.date), let endsAt = cells.next().flatMap(Self.date),
            let timeZone = cells.next().flatMap(Self.text), let status = cells.next().flatMap(Self.text),
            let kind = cells.next().flatMap(Self.text), let reason = cells.next().flatMap(Self.optionalText),
            let cancellation = cells.next().flatMap(Self.optionalText), let createdAt = cells.next().flatMap(Self.date),
            let updatedAt = cells.next().flatMap(Self.date), cells.next() == nil
        else { return nil }
        self.init(
            id: id, tenantId: tenantID, patientId: patientID, therapistId: therapistID, startsAt: startsAt, endsAt: endsAt,
            timeZone: timeZone, status: status, kind: kind, reason: reason, cancellationReason: cancellation,
            createdAt: createdAt, updatedAt: updatedAt)
    }

    /// PostgreSQL's timestamps count microseconds from 2000-01-01 UTC.
    private static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    private static func uuid(_ cell: PostgresCell) -> UUID? {
        guard cell.format == .binary, cell.dataType == .uuid, let bytes = cell.bytes, bytes.readableBytes == 16 else { return nil }
        return bytes.withUnsafeReadableBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
    }

    private static func date(_ cell: PostgresCell) -> Date? {
        guard cell.format == .binary, cell.dataType == .timestamptz, let bytes = cell.bytes, bytes.readableBytes == 8,
            let microseconds = bytes.getInteger(at: bytes.readerIndex, as: Int64.self)
        else { return nil }
        return Date(timeInterval: Double(microseconds) / 1_000_000, since: postgresEpoch)
    }

    private static func text(_ cell: PostgresCell) -> String? {
        guard cell.format == .binary, cell.dataType == .text, let bytes = cell.bytes else { return nil }
        return String(buffer: bytes)
    }

    /// `.some(nil)` for SQL NULL, nil when the cell is not text.
    private static func optionalText(_ cell: PostgresCell) -> String?? {
        guard cell.format == .binary, cell.dataType == .text else { return nil }
        guard let bytes = cell.bytes else { return .some(nil) }
        return .some(String(buffer: bytes))
    }
}

/// A new note's row, as a statement each PostgreSQL connection prepares once: sent as SQLKit text, PostgreSQL
/// parsed, analysed and planned it for every note (an INSERT under row-level security with four foreign keys:
/// with the rest of the unprepared statements, a third of PostgreSQL's CPU under `bench/profile notes`, `perf
/// record -a`). The same columns and values as the general path, which SQLite takes.
struct InsertNote: PostgresPreparedStatement {
    /// The table and columns a new note's row is written to, `$1` to `$16` in this order.
    static let into = """
        INSERT INTO clinical_notes (id, tenant_id, patient_id, author_id, appointment_id, type, sections, status, signed_at, signed_by,
            content_hash, voided_at, void_reason, created_at, updated_at, key_version)
        """
    static let sql = into + "\nVALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    static let name = "ehr_insert_note_v1"
    static let bindingDataTypes: [PostgresDataType] = [
        .uuid, .uuid, .uuid, .uuid, .uuid, .text, .text, .text, .timestamptz, .uuid, .text, .timestamptz, .text, .timestamptz, .timestamptz, .int8,
    ]
    typealias Row = ()

    let note: ClinicalNote
    let sections: String?
    let voidReason: String?
    let keyVersion: Int

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 16)
        b.append(note.id)
        b.append(note.tenantID)
        b.append(note.patientID)
        b.append(note.authorID)
        b.append(note.appointmentID)
        b.append(note.type.rawValue)
        b.append(sections)
        b.append(note.status.rawValue)
        b.append(note.signedAt.map(millisecondPrecision))
        b.append(note.signedBy)
        b.append(note.contentHash)
        b.append(note.voidedAt.map(millisecondPrecision))
        b.append(voidReason)
        b.append(millisecondPrecision(note.createdAt))
        b.append(millisecondPrecision(note.updatedAt))
        b.append(keyVersion)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

/// A new note and its audit event in one statement (the event into the inbox, see ``PostgresAuditInbox``): atomic
/// as a transaction is, so neither is written without the other, in one round trip instead of four (BEGIN, the
/// note, the event, COMMIT: about 85 µs of the server's CPU each, `bench/profile`).
struct InsertNoteAudited: NoteWithEvent {
    static let sql = "WITH note AS (" + InsertNote.sql + ") " + AuditPostgres.InsertInbox.insertOneSQL(firstParameter: 17)
    static let name = "ehr_insert_note_audited_v2"

    let note: InsertNote
    let event: AuditPostgres.InsertInbox
}

/// A new note and its audit event, written only if, as the statement runs, the note's patient is in its practice,
/// assigned to its author and not discharged, and its appointment (if any) is that patient's: what
/// ``AccessPolicy/canCreateNote(_:patient:)`` and the use case's checks ask of a new note, asked in the write's own
/// round trip instead of a lookup before it (a checkout, a statement and a round trip per note). One row when the
/// note and its event were written, none when a check failed and nothing was. It only ever refuses what those
/// checks would refuse: a refusal is asked again step by step, for the answer and the event it needs.
struct InsertNoteIfWritable: NoteWithEvent {
    /// The patient (and appointment) rows a new note may be written for: the checks of the type's documentation.
    static let writableFor = """
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16
        FROM patients AS p
        WHERE p.tenant_id = $2 AND p.id = $3 AND p.assigned_therapist_id = $4 AND p.status <> 'discharged'
            AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM appointments AS a WHERE a.tenant_id = $2 AND a.id = $5 AND a.patient_id = $3))
        """
    static let sql =
        "WITH note AS (" + InsertNote.into + "\n" + writableFor + "\nRETURNING id) "
        + AuditPostgres.InsertInbox.insertOneSQL(firstParameter: 17) + " WHERE EXISTS (SELECT 1 FROM note) RETURNING 1"
    static let name = "ehr_insert_note_if_writable_v2"

    let note: InsertNote
    let event: AuditPostgres.InsertInbox
}

/// A statement writing a new note's row (`$1` to `$16`, ``InsertNote``) and the request's audit event (from `$17`,
/// ``AuditPostgres/InsertInbox``) together.
protocol NoteWithEvent: PostgresPreparedStatement where Row == () {
    var note: InsertNote { get }
    var event: AuditPostgres.InsertInbox { get }
}

extension NoteWithEvent {
    static var bindingDataTypes: [PostgresDataType] { InsertNote.bindingDataTypes + AuditPostgres.InsertInbox.oneEventParameterTypes }

    func makeBindings() throws -> PostgresBindings {
        var b = try note.makeBindings()
        event.appendOneEventBindings(to: &b)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

/// A statement reading one record of a practice by its id: `$1` the practice, `$2` the id.
protocol RecordByID: PostgresPreparedStatement {
    var tenantID: UUID { get }
    var id: UUID { get }
}

extension RecordByID {
    static var bindingDataTypes: [PostgresDataType] { [.uuid, .uuid] }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(tenantID)
        bindings.append(id)
        return bindings
    }
}

/// What access decisions need of one patient (``PatientReference``): no encrypted column is read, so nothing is
/// decrypted (a new note's patient check read and opened the whole record).
struct FindPatientReference: RecordByID {
    static let sql = "SELECT id, tenant_id, assigned_therapist_id, user_id, status FROM patients WHERE tenant_id = $1 AND id = $2"
    static let name = "ehr_find_patient_reference_v1"
    typealias Row = PatientReferenceRow

    let tenantID: UUID
    let id: UUID

    func decodeRow(_ row: PostgresRow) throws -> PatientReferenceRow {
        let (id, tenantID, therapistID, userID, status) = try row.decode((UUID, UUID, UUID, UUID?, String).self)
        return PatientReferenceRow(id: id, tenantId: tenantID, assignedTherapistId: therapistID, userId: userID, status: status)
    }
}

/// One patient by id, as a statement each PostgreSQL connection prepares once (every note and most record reads
/// look the patient up first; sent as text it was parsed and planned each time). The row decodes through the same
/// `Codable` path as the general query's.
struct FindPatient: RecordByID {
    static let sql = """
        SELECT id, tenant_id, assigned_therapist_id, user_id, first_name, last_name, date_of_birth, email, phone, address, emergency_contact,
            status, discharged_at, discharge_reason, created_at, updated_at
        FROM patients WHERE tenant_id = $1 AND id = $2
        """
    static let name = "ehr_find_patient_v1"
    typealias Row = PatientRow

    let tenantID: UUID
    let id: UUID

    func decodeRow(_ row: PostgresRow) throws -> PatientRow {
        try row.sql().decode(model: PatientRow.self, with: SQLStore.decoder)
    }
}
