import FluentKit

/// PostgreSQL's audit inbox: every event is inserted here, durably, before the request is answered (a write's
/// event in the write's own transaction), and the server's sealer (`AuditSealerService`) moves it onto its practice's hash chain in
/// batches. Writers take no lock on the chain head, so a practice's writes and audited reads no longer queue
/// on one row.
///
/// Each row carries a MAC under the audit key (kept out of the database), so a row forged or edited before it
/// is sealed is detected at sealing and chained as a tampering event instead. Rows cannot be updated; the
/// service deletes them only as it seals them. Row-level security isolates practices as everywhere else.
struct PostgresAuditInbox: AsyncMigration {
    var name: String { "PostgresAuditInbox" }

    func prepare(on database: any Database) async throws {
        try await execute(
            [
                """
                CREATE TABLE audit_inbox (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    tenant_id uuid NOT NULL REFERENCES tenants (id),
                    occurred_ms bigint NOT NULL,
                    actor_id text NOT NULL,
                    actor_role text NOT NULL,
                    action text NOT NULL,
                    resource_type text NOT NULL,
                    resource_id text,
                    patient_id text,
                    outcome text NOT NULL,
                    request_id text NOT NULL,
                    client_ip text,
                    user_agent text,
                    changed_fields text NOT NULL,
                    detail text,
                    patient_ids text,
                    mac text NOT NULL
                )
                """,
                // The audit log's own refusal (PostgresComplianceRules), for UPDATE only: the sealer deletes what it seals.
                "CREATE TRIGGER audit_inbox_no_update BEFORE UPDATE ON audit_inbox FOR EACH ROW EXECUTE FUNCTION ehr_audit_append_only()",
                "ALTER TABLE audit_inbox ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE audit_inbox FORCE ROW LEVEL SECURITY",
                "CREATE POLICY tenant_isolation ON audit_inbox USING (ehr_row_visible(tenant_id)) WITH CHECK (ehr_row_visible(tenant_id))",
                """
                DO $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') THEN
                        GRANT SELECT, INSERT, DELETE ON audit_inbox TO ehr_service;
                        REVOKE UPDATE, TRUNCATE ON audit_inbox FROM ehr_service;
                        REVOKE UPDATE, TRUNCATE ON audit_inbox FROM PUBLIC;
                    END IF;
                END $$
                """,
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["DROP TABLE IF EXISTS audit_inbox"], on: database)
    }
}
