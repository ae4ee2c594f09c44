import FluentKit

/// PostgreSQL's share of the compliance rules.
///
/// - The audit log refuses UPDATE, DELETE and TRUNCATE by trigger, for every role including the owner
///   (a superuser can still disable triggers: that is what the hash chain and checkpoints are for).
/// - A group role `ehr_service` gets INSERT and SELECT only on `audit_events`, and ordinary rights on the
///   other tables; run the service as a login role that is a member of it (see docs/security.md). The
///   role is created only when the migrating user may create roles.
/// - Signed notes and addenda may change only by re-encryption: a higher `key_version` with every
///   other column unchanged.
struct PostgresComplianceRules: AsyncMigration {
    var name: String { "PostgresComplianceRules" }

    func prepare(on database: any Database) async throws {
        let sameNote = [
            "id", "tenant_id", "patient_id", "author_id", "appointment_id", "type", "status", "signed_at", "signed_by",
            "content_hash", "voided_at", "created_at", "updated_at",
        ]
        let sameAddendum = ["id", "tenant_id", "note_id", "author_id", "signed_at", "content_hash"]
        func unchanged(_ columns: [String]) -> String {
            "(" + columns.map { "NEW.\($0)" }.joined(separator: ", ") + ") IS NOT DISTINCT FROM (" + columns.map { "OLD.\($0)" }.joined(separator: ", ") + ")"
        }
        try await execute(
            [
                """
                CREATE FUNCTION ehr_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'audit events are append-only: % is not allowed', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END $$
                """,
                "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION ehr_audit_append_only()",
                "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION ehr_audit_append_only()",
                """
                CREATE OR REPLACE FUNCTION ehr_note_locked() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.status <> 'draft' AND NOT (NEW.key_version > OLD.key_version AND \(unchanged(sameNote))) THEN
                        RAISE EXCEPTION 'clinical note is %, and cannot change', OLD.status
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE FUNCTION ehr_addendum_locked() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NOT (NEW.key_version > OLD.key_version AND \(unchanged(sameAddendum))) THEN
                        RAISE EXCEPTION 'addenda cannot change' USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                "DROP TRIGGER note_addenda_locked ON note_addenda",
                "CREATE TRIGGER note_addenda_locked BEFORE UPDATE ON note_addenda FOR EACH ROW EXECUTE FUNCTION ehr_addendum_locked()",
                "CREATE TRIGGER note_addenda_retained BEFORE DELETE ON note_addenda FOR EACH ROW EXECUTE FUNCTION ehr_refuse_change()",
                """
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') THEN
                        CREATE ROLE ehr_service NOLOGIN;
                    END IF;
                EXCEPTION
                    -- Concurrent migrations of several databases in one cluster may race to create the role.
                    WHEN duplicate_object OR unique_violation THEN NULL;
                    WHEN insufficient_privilege THEN
                    RAISE NOTICE 'cannot create role ehr_service; create it as described in docs/security.md';
                END $$
                """,
                """
                DO $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') THEN
                        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ehr_service;
                        REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM ehr_service;
                        REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM PUBLIC;
                        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ehr_service;
                    END IF;
                END $$
                """,
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(
            [
                "DROP TRIGGER IF EXISTS note_addenda_retained ON note_addenda",
                "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
                "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
                "DROP FUNCTION IF EXISTS ehr_audit_append_only()",
            ], on: database)
    }
}
