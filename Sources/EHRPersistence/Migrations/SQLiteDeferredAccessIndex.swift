import FluentKit

/// SQLite's access-log index (`audit_event_patients`) is filled behind the chain instead of in each audit
/// commit: one row per patient a list showed (20 per list read), each in a random place of the index, was 115 of
/// the 131 pages a flush of four list events wrote to the log. `patients_indexed_seq` is how far each chain is
/// indexed; ``AuditLog/sealPending(in:)`` indexes the rest in sorted batches, and every reader of the access log or
/// the chain's verification runs it first. Events chained before this migration were indexed as they were written.
struct SQLiteDeferredAccessIndex: AsyncMigration {
    var name: String { "SQLiteDeferredAccessIndex" }

    func prepare(on database: any Database) async throws {
        try await execute(
            [
                "ALTER TABLE audit_heads ADD COLUMN patients_indexed_seq BIGINT NOT NULL DEFAULT 0",
                "UPDATE audit_heads SET patients_indexed_seq = seq",
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["ALTER TABLE audit_heads DROP COLUMN patients_indexed_seq"], on: database)
    }
}
