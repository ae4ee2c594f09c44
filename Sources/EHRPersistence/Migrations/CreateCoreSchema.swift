import FluentKit

/// Every table of the core service. Every table carries `tenant_id`, and every foreign key between
/// tenant tables includes it, so no row can point into another tenant (composite keys on `(tenant_id, id)`).
struct CreateCoreSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "CreateCoreSchema" }

    func prepare(on database: any Database) async throws {
        try await execute(statements.map(typed), on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(
            ["login_failures", "invitations", "refresh_tokens", "note_addenda", "clinical_notes", "appointments", "patients", "providers", "users", "tenants"]
                .map { "DROP TABLE IF EXISTS \($0)" },
            on: database)
    }

    /// Column types per dialect: UUIDs are native in PostgreSQL and text in SQLite; instants are
    /// `timestamptz` and Unix seconds (REAL) respectively.
    private func typed(_ statement: String) -> String {
        let types: [String: String] =
            switch dialect {
            case .postgres: ["{uuid}": "uuid", "{ts}": "timestamptz", "{bool}": "boolean"]
            case .sqlite: ["{uuid}": "TEXT", "{ts}": "REAL", "{bool}": "INTEGER"]
            }
        return types.reduce(statement) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }

    private var statements: [String] {
        [
            """
            CREATE TABLE tenants (
                id {uuid} PRIMARY KEY,
                slug TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                created_at {ts} NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                email TEXT NOT NULL,
                display_name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('admin', 'therapist', 'client')),
                active {bool} NOT NULL,
                password_hash TEXT,
                created_at {ts} NOT NULL,
                updated_at {ts} NOT NULL,
                UNIQUE (tenant_id, id),
                UNIQUE (tenant_id, email)
            )
            """,
            """
            CREATE TABLE providers (
                user_id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL,
                license_number TEXT NOT NULL,
                license_state TEXT NOT NULL,
                credentials TEXT NOT NULL,
                specialties TEXT NOT NULL,
                updated_at {ts} NOT NULL,
                UNIQUE (tenant_id, user_id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
            """
            CREATE TABLE patients (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                assigned_therapist_id {uuid} NOT NULL,
                user_id {uuid},
                first_name TEXT NOT NULL,
                last_name TEXT NOT NULL,
                date_of_birth TEXT NOT NULL,
                email TEXT,
                phone TEXT,
                address TEXT,
                emergency_contact TEXT,
                status TEXT NOT NULL CHECK (status IN ('active', 'discharged')),
                discharged_at {ts},
                discharge_reason TEXT,
                created_at {ts} NOT NULL,
                updated_at {ts} NOT NULL,
                UNIQUE (tenant_id, id),
                UNIQUE (tenant_id, user_id),
                FOREIGN KEY (tenant_id, assigned_therapist_id) REFERENCES providers (tenant_id, user_id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
            "CREATE INDEX patients_by_therapist ON patients (tenant_id, assigned_therapist_id, created_at)",
            "CREATE INDEX patients_by_tenant ON patients (tenant_id, created_at)",
            """
            CREATE TABLE appointments (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                patient_id {uuid} NOT NULL,
                therapist_id {uuid} NOT NULL,
                starts_at {ts} NOT NULL,
                ends_at {ts} NOT NULL,
                time_zone TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('scheduled', 'confirmed', 'in_progress', 'completed', 'cancelled', 'no_show')),
                kind TEXT NOT NULL CHECK (kind IN ('in_person', 'televisit')),
                reason TEXT,
                cancellation_reason TEXT,
                created_at {ts} NOT NULL,
                updated_at {ts} NOT NULL,
                CHECK (ends_at > starts_at),
                UNIQUE (tenant_id, id),
                FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
                FOREIGN KEY (tenant_id, therapist_id) REFERENCES providers (tenant_id, user_id)
            )
            """,
            "CREATE INDEX appointments_by_therapist ON appointments (tenant_id, therapist_id, starts_at)",
            "CREATE INDEX appointments_by_patient ON appointments (tenant_id, patient_id, starts_at)",
            "CREATE INDEX appointments_by_tenant ON appointments (tenant_id, starts_at)",
            """
            CREATE TABLE clinical_notes (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                patient_id {uuid} NOT NULL,
                author_id {uuid} NOT NULL,
                appointment_id {uuid},
                type TEXT NOT NULL CHECK (type IN ('soap', 'dap', 'birp', 'progress', 'intake')),
                sections TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('draft', 'signed', 'voided')),
                signed_at {ts},
                signed_by {uuid},
                content_hash TEXT,
                voided_at {ts},
                void_reason TEXT,
                created_at {ts} NOT NULL,
                updated_at {ts} NOT NULL,
                CHECK (status <> 'signed' OR (signed_at IS NOT NULL AND signed_by IS NOT NULL AND content_hash IS NOT NULL)),
                UNIQUE (tenant_id, id),
                FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
                FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id),
                FOREIGN KEY (tenant_id, signed_by) REFERENCES users (tenant_id, id),
                FOREIGN KEY (tenant_id, appointment_id) REFERENCES appointments (tenant_id, id)
            )
            """,
            "CREATE INDEX notes_by_patient ON clinical_notes (tenant_id, patient_id, created_at)",
            "CREATE INDEX notes_by_tenant ON clinical_notes (tenant_id, created_at)",
            """
            CREATE TABLE note_addenda (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                note_id {uuid} NOT NULL,
                author_id {uuid} NOT NULL,
                text TEXT NOT NULL,
                signed_at {ts} NOT NULL,
                content_hash TEXT NOT NULL,
                FOREIGN KEY (tenant_id, note_id) REFERENCES clinical_notes (tenant_id, id),
                FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
            )
            """,
            "CREATE INDEX addenda_by_note ON note_addenda (tenant_id, note_id, signed_at)",
            """
            CREATE TABLE refresh_tokens (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL,
                user_id {uuid} NOT NULL,
                family_id {uuid} NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL,
                issued_at {ts} NOT NULL,
                expires_at {ts} NOT NULL,
                rotated_at {ts},
                revoked_at {ts},
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
            "CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id)",
            "CREATE INDEX refresh_tokens_by_user ON refresh_tokens (tenant_id, user_id)",
            """
            CREATE TABLE invitations (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL,
                user_id {uuid} NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                expires_at {ts} NOT NULL,
                used_at {ts},
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
            // Keys are hashes of "account:<tenant>:<email>" or "ip:<address>"; no tenant row to point at, no PII stored.
            """
            CREATE TABLE login_failures (
                key TEXT NOT NULL,
                at {ts} NOT NULL
            )
            """,
            "CREATE INDEX login_failures_by_key ON login_failures (key, at)",
        ]
    }
}
