import FluentKit

/// Schema of the hardening work:
/// - `login_throttle`: one counter row per throttle key (account or client address) and window, moved by a
///   single upsert that records the attempt and returns the count, so concurrent guesses cannot all pass;
///   it replaces `login_failures`, which was counted only after bcrypt returned.
/// - `audit_events.patient_ids`: the patients whose records a list or search returned (hash-chained with the
///   event), and `audit_event_patients`, the index of it the access log reads (append-only like the log). It has
///   no foreign key to `audit_events`: verification checks it against the chain, and a key would only change
///   which error an attempt to truncate or delete events meets.
struct HardeningSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "HardeningSchema" }

    func prepare(on database: any Database) async throws {
        let timestamp = dialect == .postgres ? "timestamptz" : "REAL"
        let uuid = dialect == .postgres ? "uuid" : "TEXT"
        var statements = [
            "DROP TABLE login_failures",
            """
            CREATE TABLE login_throttle (
                key TEXT PRIMARY KEY,
                window_start \(timestamp) NOT NULL,
                attempts INTEGER NOT NULL
            )
            """,
            "ALTER TABLE audit_events ADD COLUMN patient_ids TEXT",
            """
            CREATE TABLE audit_event_patients (
                tenant_id \(uuid) NOT NULL,
                patient_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                PRIMARY KEY (tenant_id, patient_id, seq)
            )
            """,
        ]
        switch dialect {
        case .sqlite:
            statements += [
                "CREATE TRIGGER audit_event_patients_no_update BEFORE UPDATE ON audit_event_patients BEGIN SELECT RAISE(ABORT, 'audit_append_only'); END",
                "CREATE TRIGGER audit_event_patients_no_delete BEFORE DELETE ON audit_event_patients BEGIN SELECT RAISE(ABORT, 'audit_append_only'); END",
            ]
        case .postgres:
            statements += [
                """
                CREATE TRIGGER audit_event_patients_append_only BEFORE UPDATE OR DELETE ON audit_event_patients
                FOR EACH ROW EXECUTE FUNCTION ehr_audit_append_only()
                """,
                """
                CREATE TRIGGER audit_event_patients_no_truncate BEFORE TRUNCATE ON audit_event_patients
                FOR EACH STATEMENT EXECUTE FUNCTION ehr_audit_append_only()
                """,
                """
                DO $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') THEN
                        GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO ehr_service;
                        GRANT SELECT, INSERT ON audit_event_patients TO ehr_service;
                        REVOKE UPDATE, DELETE, TRUNCATE ON audit_event_patients FROM PUBLIC;
                    END IF;
                END $$
                """,
            ]
        }
        try await execute(statements, on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(
            ["DROP TABLE IF EXISTS audit_event_patients", "DROP TABLE IF EXISTS login_throttle", "ALTER TABLE audit_events DROP COLUMN patient_ids"],
            on: database)
    }
}
