import FluentKit

/// Tables and columns of the compliance core: wrapped per-tenant keys, the hash-chained audit log with
/// its per-tenant head (the row a writer locks to append), break-glass grants, blind-index columns for
/// exact search over encrypted fields, and a `key_version` on every table holding ciphertext (0 = written
/// before encryption; start-up encrypts such rows).
struct ComplianceSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "ComplianceSchema" }

    func prepare(on database: any Database) async throws {
        try await execute(statements.map(typed), on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["break_glass_grants", "audit_heads", "audit_events", "tenant_keys"].map { "DROP TABLE IF EXISTS \($0)" }, on: database)
    }

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
            // Data keys (purpose 'data', versioned, one current) and the blind-index key ('index'),
            // each wrapped by the master key; never stored in the clear.
            """
            CREATE TABLE tenant_keys (
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                purpose TEXT NOT NULL CHECK (purpose IN ('data', 'index')),
                version INTEGER NOT NULL CHECK (version > 0),
                wrapped_key TEXT NOT NULL,
                master_key_id TEXT NOT NULL,
                is_current {bool} NOT NULL,
                created_at {ts} NOT NULL,
                PRIMARY KEY (tenant_id, purpose, version)
            )
            """,
            """
            CREATE TABLE audit_events (
                tenant_id {uuid} NOT NULL,
                seq BIGINT NOT NULL,
                occurred_ms BIGINT NOT NULL,
                actor_id TEXT NOT NULL,
                actor_role TEXT NOT NULL,
                action TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                resource_id TEXT,
                patient_id TEXT,
                outcome TEXT NOT NULL,
                request_id TEXT NOT NULL,
                client_ip TEXT,
                user_agent TEXT,
                changed_fields TEXT NOT NULL,
                detail TEXT,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL,
                mac TEXT NOT NULL,
                PRIMARY KEY (tenant_id, seq)
            )
            """,
            "CREATE INDEX audit_events_by_patient ON audit_events (tenant_id, patient_id, seq)",
            "CREATE INDEX audit_events_by_actor ON audit_events (tenant_id, actor_id, seq)",
            "CREATE INDEX audit_events_by_time ON audit_events (tenant_id, occurred_ms)",
            """
            CREATE TABLE audit_heads (
                tenant_id {uuid} PRIMARY KEY,
                seq BIGINT NOT NULL,
                hash TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE break_glass_grants (
                id {uuid} PRIMARY KEY,
                tenant_id {uuid} NOT NULL REFERENCES tenants (id),
                user_id {uuid} NOT NULL,
                note_id {uuid} NOT NULL,
                patient_id {uuid} NOT NULL,
                reason TEXT NOT NULL,
                granted_at {ts} NOT NULL,
                expires_at {ts} NOT NULL,
                key_version INTEGER NOT NULL,
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
                FOREIGN KEY (tenant_id, note_id) REFERENCES clinical_notes (tenant_id, id),
                FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
            )
            """,
            "CREATE INDEX break_glass_by_user_note ON break_glass_grants (tenant_id, user_id, note_id, expires_at)",
            // Set when the practice's keys are destroyed: start-up must never give such a tenant new keys.
            "ALTER TABLE tenants ADD COLUMN shredded_at {ts}",
            "ALTER TABLE users ADD COLUMN email_bidx TEXT",
            "ALTER TABLE users ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0",
            "CREATE UNIQUE INDEX users_by_email_bidx ON users (tenant_id, email_bidx)",
            "ALTER TABLE patients ADD COLUMN email_bidx TEXT",
            "ALTER TABLE patients ADD COLUMN phone_bidx TEXT",
            "ALTER TABLE patients ADD COLUMN name_dob_bidx TEXT",
            "ALTER TABLE patients ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX patients_by_email_bidx ON patients (tenant_id, email_bidx)",
            "CREATE INDEX patients_by_phone_bidx ON patients (tenant_id, phone_bidx)",
            "CREATE INDEX patients_by_name_dob_bidx ON patients (tenant_id, name_dob_bidx)",
            "ALTER TABLE appointments ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE clinical_notes ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE note_addenda ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0",
        ]
    }
}
