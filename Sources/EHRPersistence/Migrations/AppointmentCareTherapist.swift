import FluentKit
import SQLKit

/// Stores on each appointment the therapist its patient is assigned to (`care_therapist_id`), kept by the
/// database itself: set on insert, moved when the patient is reassigned, and restored if anything writes
/// another value. A therapist sees an appointment when it is theirs or their patient's; with the second
/// therapist on the row both arms of that scope read their own index in order, so a therapist's list costs
/// the same whatever the size of the practice and whatever the planner's statistics say. The index of the
/// second arm holds only appointments with someone other than the patient's therapist.
struct AppointmentCareTherapist: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "AppointmentCareTherapist" }

    func prepare(on database: any Database) async throws {
        var statements = [
            "ALTER TABLE appointments ADD COLUMN care_therapist_id \(dialect == .postgres ? "uuid" : "TEXT")",
            "UPDATE appointments SET care_therapist_id = (SELECT p.assigned_therapist_id FROM patients p WHERE p.id = appointments.patient_id)",
            "CREATE INDEX appointments_by_therapist_in_order ON appointments (tenant_id, therapist_id, starts_at, id)",
            """
            CREATE INDEX appointments_by_care_therapist ON appointments (tenant_id, care_therapist_id, starts_at, id)
                WHERE care_therapist_id <> therapist_id
            """,
            "DROP INDEX appointments_by_therapist",
        ]
        switch dialect {
        case .postgres:
            statements += [
                "ALTER TABLE appointments ALTER COLUMN care_therapist_id SET NOT NULL",
                // FOR SHARE on insert: a reassignment in flight commits first (the insert then reads the new
                // therapist) or waits for the insert to commit (its update then moves the new row too).
                """
                CREATE FUNCTION ehr_appointment_care_therapist() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        SELECT assigned_therapist_id INTO NEW.care_therapist_id FROM patients
                            WHERE tenant_id = NEW.tenant_id AND id = NEW.patient_id FOR SHARE;
                    ELSE
                        SELECT assigned_therapist_id INTO NEW.care_therapist_id FROM patients
                            WHERE tenant_id = NEW.tenant_id AND id = NEW.patient_id;
                    END IF;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER appointments_care_therapist BEFORE INSERT OR UPDATE OF patient_id, care_therapist_id ON appointments
                    FOR EACH ROW EXECUTE FUNCTION ehr_appointment_care_therapist()
                """,
                """
                CREATE FUNCTION ehr_patient_care_moves() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE appointments SET care_therapist_id = NEW.assigned_therapist_id
                        WHERE tenant_id = NEW.tenant_id AND patient_id = NEW.id;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER patients_care_moves AFTER UPDATE OF assigned_therapist_id ON patients FOR EACH ROW
                    WHEN (OLD.assigned_therapist_id IS DISTINCT FROM NEW.assigned_therapist_id) EXECUTE FUNCTION ehr_patient_care_moves()
                """,
                "CREATE STATISTICS appointments_tenant_care_therapist (dependencies) ON tenant_id, care_therapist_id FROM appointments",
            ]
        case .sqlite:
            // SQLite runs one writer at a time: the insert and the move cannot interleave.
            let assigned = "(SELECT p.assigned_therapist_id FROM patients p WHERE p.id = NEW.patient_id)"
            statements += [
                """
                CREATE TRIGGER appointments_care_therapist_insert AFTER INSERT ON appointments
                BEGIN UPDATE appointments SET care_therapist_id = \(assigned) WHERE id = NEW.id; END
                """,
                """
                CREATE TRIGGER appointments_care_therapist_update AFTER UPDATE OF patient_id, care_therapist_id ON appointments
                WHEN NEW.care_therapist_id IS NOT \(assigned)
                BEGIN UPDATE appointments SET care_therapist_id = \(assigned) WHERE id = NEW.id; END
                """,
                """
                CREATE TRIGGER patients_care_moves AFTER UPDATE OF assigned_therapist_id ON patients
                WHEN OLD.assigned_therapist_id IS NOT NEW.assigned_therapist_id
                BEGIN UPDATE appointments SET care_therapist_id = NEW.assigned_therapist_id WHERE patient_id = NEW.id; END
                """,
            ]
        }
        try await execute(statements, on: database)
    }

    func revert(on database: any Database) async throws {
        var statements = [
            "DROP INDEX IF EXISTS appointments_by_care_therapist",
            "CREATE INDEX appointments_by_therapist ON appointments (tenant_id, therapist_id, starts_at)",
            "DROP INDEX IF EXISTS appointments_by_therapist_in_order",
        ]
        switch dialect {
        case .postgres:
            statements += [
                "DROP STATISTICS IF EXISTS appointments_tenant_care_therapist",
                "DROP TRIGGER IF EXISTS patients_care_moves ON patients",
                "DROP TRIGGER IF EXISTS appointments_care_therapist ON appointments",
                "DROP FUNCTION IF EXISTS ehr_patient_care_moves()",
                "DROP FUNCTION IF EXISTS ehr_appointment_care_therapist()",
            ]
        case .sqlite:
            statements += ["patients_care_moves", "appointments_care_therapist_update", "appointments_care_therapist_insert"].map {
                "DROP TRIGGER IF EXISTS \($0)"
            }
        }
        statements.append("ALTER TABLE appointments DROP COLUMN care_therapist_id")
        try await execute(statements, on: database)
    }
}
