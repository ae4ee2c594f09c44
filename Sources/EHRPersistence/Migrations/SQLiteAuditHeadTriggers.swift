import FluentKit

/// SQLite's chain heads kept by the database: an event is accepted only as the next link of its practice's chain
/// (its sequence one past the head's, its previous hash the head's hash), and moves the head as it goes in. The
/// writer can then append a flush of events as one statement, on heads it remembers (see
/// ``AuditLog/appendAlone(_:in:)``); a head that moved meanwhile (another process, a rolled-back transaction)
/// fails that statement as a whole, and the writer reads the heads again.
struct SQLiteAuditHeadTriggers: AsyncMigration {
    var name: String { "SQLiteAuditHeadTriggers" }

    func prepare(on database: any Database) async throws {
        try await execute(
            [
                """
                CREATE TRIGGER audit_events_extend_head BEFORE INSERT ON audit_events
                WHEN NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.tenant_id = NEW.tenant_id AND h.seq + 1 = NEW.seq AND h.hash = NEW.prev_hash)
                BEGIN SELECT RAISE(ABORT, 'audit_head_moved'); END
                """,
                """
                CREATE TRIGGER audit_events_move_head AFTER INSERT ON audit_events
                BEGIN UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE tenant_id = NEW.tenant_id; END
                """,
            ], on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["audit_events_extend_head", "audit_events_move_head"].map { "DROP TRIGGER IF EXISTS \($0)" }, on: database)
    }
}
