import FluentKit

/// Every audited request inserted into `audit_inbox`, and every new note into `clinical_notes`, under a foreign
/// key to `tenants`: PostgreSQL checks one with `FOR KEY SHARE` on the practice's row, so all of a practice's
/// concurrent writes locked that one row (each lock a WAL record, and a multixact when they overlap). Measured
/// with both keys dropped (`bench/profile`, two alternating pairs each): PostgreSQL's CPU 8–11% lower a note and a
/// list request. Neither key proves anything the schema does not prove otherwise: a note's practice is proved by
/// its key to `patients` (`(tenant_id, patient_id)`), whose own key names the practice; an inbox row's practice is
/// checked by the sealer, which takes only rows of practices that exist (``AuditPostgres/TakeInbox``), so a row
/// naming none is never chained and stays in the inbox, where the sealer service reports it
/// (``AuditLog/strandedInboxRows(in:)``).
struct PostgresUnlockedTenantKeys: AsyncMigration {
    var name: String { "PostgresUnlockedTenantKeys" }

    func prepare(on database: any Database) async throws {
        try await execute(
            [
                "ALTER TABLE audit_inbox DROP CONSTRAINT IF EXISTS audit_inbox_tenant_id_fkey",
                "ALTER TABLE clinical_notes DROP CONSTRAINT IF EXISTS clinical_notes_tenant_id_fkey",
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(
            [
                "ALTER TABLE clinical_notes ADD CONSTRAINT clinical_notes_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)",
                "ALTER TABLE audit_inbox ADD CONSTRAINT audit_inbox_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)",
            ], on: database)
    }
}
