import FluentKit

/// SQLite's share of the compliance rules: the audit log is append-only, and a signed note or an
/// addendum may change only by re-encryption (a higher `key_version`, every other column the same).
/// A re-encrypted signed note is still checked against its content hash when read.
struct SQLiteComplianceTriggers: AsyncMigration {
    var name: String { "SQLiteComplianceTriggers" }

    func prepare(on database: any Database) async throws {
        let sameNote = [
            "id", "tenant_id", "patient_id", "author_id", "appointment_id", "type", "status", "signed_at", "signed_by",
            "content_hash", "voided_at", "created_at", "updated_at",
        ].map { "NEW.\($0) IS OLD.\($0)" }.joined(separator: " AND ")
        let sameAddendum = ["id", "tenant_id", "note_id", "author_id", "signed_at", "content_hash"]
            .map { "NEW.\($0) IS OLD.\($0)" }.joined(separator: " AND ")
        try await execute(
            [
                "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_append_only'); END",
                "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_append_only'); END",
                "DROP TRIGGER clinical_notes_locked",
                """
                CREATE TRIGGER clinical_notes_locked BEFORE UPDATE ON clinical_notes
                WHEN OLD.status <> 'draft' AND NOT (NEW.key_version > OLD.key_version AND \(sameNote))
                BEGIN SELECT RAISE(ABORT, 'note_locked'); END
                """,
                "DROP TRIGGER note_addenda_locked",
                """
                CREATE TRIGGER note_addenda_locked BEFORE UPDATE ON note_addenda
                WHEN NOT (NEW.key_version > OLD.key_version AND \(sameAddendum))
                BEGIN SELECT RAISE(ABORT, 'note_locked'); END
                """,
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["audit_events_no_update", "audit_events_no_delete"].map { "DROP TRIGGER IF EXISTS \($0)" }, on: database)
    }
}
