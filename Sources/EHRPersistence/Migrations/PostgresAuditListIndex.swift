import FluentKit

/// PostgreSQL's access-log index reads the chained list itself: a GIN index over each event's `patient_ids`
/// (as `jsonb`) replaces `audit_event_patients`, which cost one heap row and one B-tree entry per patient
/// shown (20 per list read; about 95% of the time spent sealing a batch of list events). The index is kept by
/// PostgreSQL from the hashed column, so there is no separate copy to tamper with or check; the table is
/// dropped (everything it held is in `patient_ids`). SQLite keeps `audit_event_patients`.
struct PostgresAuditListIndex: AsyncMigration {
    var name: String { "PostgresAuditListIndex" }

    func prepare(on database: any Database) async throws {
        try await execute(
            [
                "CREATE INDEX audit_events_patient_lists ON audit_events USING gin ((patient_ids::jsonb))",
                "DROP TABLE audit_event_patients",
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["DROP INDEX IF EXISTS audit_events_patient_lists"], on: database)
    }
}
