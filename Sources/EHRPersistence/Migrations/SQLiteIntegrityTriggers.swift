import FluentKit

/// SQLite's share of the integrity rules that must hold even if application code is wrong:
/// no double-booking, no change to a signed note or addendum, no deletion of clinical records.
/// SQLite runs one writer at a time, so a BEFORE trigger check is race-free.
struct SQLiteIntegrityTriggers: AsyncMigration {
    var name: String { "SQLiteIntegrityTriggers" }

    func prepare(on database: any Database) async throws {
        let overlap = """
            WHEN NEW.status <> 'cancelled' AND EXISTS (
                SELECT 1 FROM appointments a
                WHERE a.tenant_id = NEW.tenant_id AND a.therapist_id = NEW.therapist_id AND a.id <> NEW.id
                  AND a.status <> 'cancelled' AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
            BEGIN SELECT RAISE(ABORT, 'appointment_overlap'); END
            """
        try await execute(
            [
                "CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments " + overlap,
                "CREATE TRIGGER appointments_no_overlap_update BEFORE UPDATE ON appointments " + overlap,
                """
                CREATE TRIGGER clinical_notes_locked BEFORE UPDATE ON clinical_notes
                WHEN OLD.status <> 'draft'
                BEGIN SELECT RAISE(ABORT, 'note_locked'); END
                """,
                "CREATE TRIGGER clinical_notes_retained BEFORE DELETE ON clinical_notes BEGIN SELECT RAISE(ABORT, 'record_retained'); END",
                "CREATE TRIGGER note_addenda_locked BEFORE UPDATE ON note_addenda BEGIN SELECT RAISE(ABORT, 'note_locked'); END",
                "CREATE TRIGGER note_addenda_retained BEFORE DELETE ON note_addenda BEGIN SELECT RAISE(ABORT, 'record_retained'); END",
                "CREATE TRIGGER patients_retained BEFORE DELETE ON patients BEGIN SELECT RAISE(ABORT, 'record_retained'); END",
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(
            [
                "appointments_no_overlap_insert", "appointments_no_overlap_update", "clinical_notes_locked", "clinical_notes_retained",
                "note_addenda_locked", "note_addenda_retained", "patients_retained",
            ].map { "DROP TRIGGER IF EXISTS \($0)" },
            on: database)
    }
}
