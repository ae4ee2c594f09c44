import FluentKit

/// Row-level security in PostgreSQL, the backstop behind every query's own `tenant_id` condition: a
/// statement sees and writes only the rows of the practice named by `app.tenant_id`, or every row when
/// `app.system` names one of the narrow purposes in ``SystemAccess``. Enabled and forced on every table
/// with a practice column (the owner is subject to it too; only superusers and BYPASSRLS roles are not,
/// which is why statements run as `ehr_service`: see ``DatabaseScope``).
///
/// `login_throttle` has no practice column (its keys are hashes of a practice slug, email or address) and
/// no row-level security. `audit_inbox` (a later migration, ``PostgresAuditInbox``) sets up its own.
struct PostgresRowLevelSecurity: AsyncMigration {
    var name: String { "PostgresRowLevelSecurity" }

    /// Every table that carries a practice, with the column naming it.
    static let tenantTables: [(table: String, column: String)] = [
        ("tenants", "id"), ("tenant_keys", "tenant_id"), ("users", "tenant_id"), ("providers", "tenant_id"),
        ("patients", "tenant_id"), ("appointments", "tenant_id"), ("clinical_notes", "tenant_id"),
        ("note_addenda", "tenant_id"), ("refresh_tokens", "tenant_id"), ("invitations", "tenant_id"),
        ("break_glass_grants", "tenant_id"), ("audit_events", "tenant_id"), ("audit_heads", "tenant_id"),
        ("audit_event_patients", "tenant_id"), ("web_sessions", "tenant_id"),
    ]

    func prepare(on database: any Database) async throws {
        var statements = [
            """
            CREATE FUNCTION ehr_row_visible(row_tenant uuid) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
                SELECT row_tenant = nullif(current_setting('app.tenant_id', true), '')::uuid
                    OR coalesce(current_setting('app.system', true), '') <> ''
            $$
            """
        ]
        for (table, column) in Self.tenantTables { statements += Self.isolate(table, column: column) }
        // The service role (created by PostgresComplianceRules when the migrating role may) is the role every
        // statement runs as; the migrating role joins it so it can switch to it (a superuser need not).
        statements.append(
            """
            DO $$
            BEGIN
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') AND NOT pg_has_role(session_user, 'ehr_service', 'MEMBER') THEN
                    GRANT ehr_service TO SESSION_USER;
                END IF;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot grant ehr_service to %; see docs/security.md', session_user;
            END $$
            """)
        try await execute(statements, on: database)
    }

    /// The statements that put `table` behind the practice wall (for tables later migrations add).
    static func isolate(_ table: String, column: String = "tenant_id") -> [String] {
        [
            "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
            "CREATE POLICY tenant_isolation ON \(table) USING (ehr_row_visible(\(column))) WITH CHECK (ehr_row_visible(\(column)))",
        ]
    }

    func revert(on database: any Database) async throws {
        var statements: [String] = []
        for (table, _) in Self.tenantTables {
            statements += [
                "DROP POLICY IF EXISTS tenant_isolation ON \(table)",
                "ALTER TABLE \(table) NO FORCE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) DISABLE ROW LEVEL SECURITY",
            ]
        }
        statements.append("DROP FUNCTION IF EXISTS ehr_row_visible(uuid)")
        try await execute(statements, on: database)
    }
}
