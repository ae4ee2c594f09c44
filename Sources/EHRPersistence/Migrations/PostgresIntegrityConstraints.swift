import FluentKit

/// PostgreSQL's share of the integrity rules, enforced by the database itself so that concurrent
/// requests cannot both win: an exclusion constraint against double-booking (btree_gist),
/// triggers that lock signed notes and addenda and retain clinical records, and extended
/// statistics so the planner sees that tenant and therapist are correlated.
struct PostgresIntegrityConstraints: AsyncMigration {
    var name: String { "PostgresIntegrityConstraints" }

    func prepare(on database: any Database) async throws {
        try await execute(
            [
                "CREATE EXTENSION IF NOT EXISTS btree_gist",
                """
                ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap
                EXCLUDE USING gist (tenant_id WITH =, therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
                WHERE (status <> 'cancelled')
                """,
                "CREATE STATISTICS appointments_tenant_therapist (dependencies) ON tenant_id, therapist_id FROM appointments",
                "CREATE STATISTICS patients_tenant_therapist (dependencies) ON tenant_id, assigned_therapist_id FROM patients",
                """
                CREATE FUNCTION ehr_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '% on % is not allowed: clinical records are retained and signed content is locked', TG_OP, TG_TABLE_NAME
                        USING ERRCODE = 'integrity_constraint_violation';
                END $$
                """,
                """
                CREATE FUNCTION ehr_note_locked() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.status <> 'draft' THEN
                        RAISE EXCEPTION 'clinical note is %, and cannot change', OLD.status
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                "CREATE TRIGGER clinical_notes_locked BEFORE UPDATE ON clinical_notes FOR EACH ROW EXECUTE FUNCTION ehr_note_locked()",
                "CREATE TRIGGER clinical_notes_retained BEFORE DELETE ON clinical_notes FOR EACH ROW EXECUTE FUNCTION ehr_refuse_change()",
                "CREATE TRIGGER note_addenda_locked BEFORE UPDATE OR DELETE ON note_addenda FOR EACH ROW EXECUTE FUNCTION ehr_refuse_change()",
                "CREATE TRIGGER patients_retained BEFORE DELETE ON patients FOR EACH ROW EXECUTE FUNCTION ehr_refuse_change()",
                "CREATE TRIGGER clinical_records_no_truncate BEFORE TRUNCATE ON clinical_notes FOR EACH STATEMENT EXECUTE FUNCTION ehr_refuse_change()",
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(
            [
                "DROP TRIGGER IF EXISTS clinical_records_no_truncate ON clinical_notes",
                "DROP TRIGGER IF EXISTS patients_retained ON patients",
                "DROP TRIGGER IF EXISTS note_addenda_locked ON note_addenda",
                "DROP TRIGGER IF EXISTS clinical_notes_retained ON clinical_notes",
                "DROP TRIGGER IF EXISTS clinical_notes_locked ON clinical_notes",
                "DROP FUNCTION IF EXISTS ehr_note_locked()",
                "DROP FUNCTION IF EXISTS ehr_refuse_change()",
                "DROP STATISTICS IF EXISTS patients_tenant_therapist",
                "DROP STATISTICS IF EXISTS appointments_tenant_therapist",
                "ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_no_overlap",
            ], on: database)
    }
}
