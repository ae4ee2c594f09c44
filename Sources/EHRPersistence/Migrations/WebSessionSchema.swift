import FluentKit

/// The web app's sessions and the practice's time zone.
/// - `web_sessions`: a browser session, found by the SHA-256 of its cookie. Each belongs to a refresh-token
///   family (created at sign-in like the API's), so revoking the family (logout, deactivation, a role change)
///   ends it; it also ends after 15 minutes idle and 12 hours in all. Holds the form (CSRF) token.
/// - `tenants.time_zone`: the IANA zone the practice works in (schedule days and weeks).
struct WebSessionSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "WebSessionSchema" }

    func prepare(on database: any Database) async throws {
        let timestamp = dialect == .postgres ? "timestamptz" : "REAL"
        let uuid = dialect == .postgres ? "uuid" : "TEXT"
        var statements = [
            "ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC'",
            """
            CREATE TABLE web_sessions (
                token_hash TEXT PRIMARY KEY,
                tenant_id \(uuid) NOT NULL,
                user_id \(uuid) NOT NULL,
                family_id \(uuid) NOT NULL,
                csrf_token TEXT NOT NULL,
                created_at \(timestamp) NOT NULL,
                last_seen_at \(timestamp) NOT NULL,
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
            "CREATE INDEX web_sessions_by_family ON web_sessions (family_id)",
        ]
        if dialect == .postgres {
            statements.append(
                """
                DO $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') THEN
                        GRANT SELECT, INSERT, UPDATE, DELETE ON web_sessions TO ehr_service;
                    END IF;
                END $$
                """)
        }
        try await execute(statements, on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["DROP TABLE IF EXISTS web_sessions", "ALTER TABLE tenants DROP COLUMN time_zone"], on: database)
    }
}
