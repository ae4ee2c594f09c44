import FluentKit

/// The notification outbox (reminders and new-message notifications, one row per person and channel, each with
/// an idempotency key unique in its practice) and each person's channel preferences. A row is claimed for a
/// while (`claim_id`, `locked_until`) by the one dispatcher that sends it, so two instances never send the same
/// row at once and a dispatcher that died mid-send leaves it to another once the claim lapses. Row-level security
/// on PostgreSQL as on every practice table.
struct NotificationSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "NotificationSchema" }

    static let tables = ["notification_outbox", "notification_preferences"]

    func prepare(on database: any Database) async throws {
        let (uuid, ts, bool) = dialect == .postgres ? ("uuid", "timestamptz", "boolean") : ("TEXT", "REAL", "INTEGER")
        var statements = [
            """
            CREATE TABLE notification_outbox (
                id \(uuid) PRIMARY KEY,
                tenant_id \(uuid) NOT NULL REFERENCES tenants (id),
                user_id \(uuid) NOT NULL,
                channel TEXT NOT NULL CHECK (channel IN ('push', 'email')),
                kind TEXT NOT NULL CHECK (kind IN ('appointment_reminder_24h', 'appointment_reminder_1h', 'new_message')),
                subject_id \(uuid) NOT NULL,
                subject_at \(ts),
                idempotency_key TEXT NOT NULL,
                due_at \(ts) NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'withdrawn', 'skipped', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at \(ts) NOT NULL,
                claim_id \(uuid),
                locked_until \(ts),
                sent_at \(ts),
                last_error TEXT,
                created_at \(ts) NOT NULL,
                UNIQUE (tenant_id, idempotency_key),
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
            "CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX notification_outbox_by_subject ON notification_outbox (tenant_id, subject_id)",
            "CREATE INDEX notification_outbox_by_user ON notification_outbox (tenant_id, user_id, due_at)",
            // The reminder scheduler scans the coming day's appointments of every practice.
            "CREATE INDEX appointments_by_start ON appointments (starts_at)",
            """
            CREATE TABLE notification_preferences (
                tenant_id \(uuid) NOT NULL REFERENCES tenants (id),
                user_id \(uuid) NOT NULL,
                push_enabled \(bool) NOT NULL,
                email_enabled \(bool) NOT NULL,
                updated_at \(ts) NOT NULL,
                PRIMARY KEY (tenant_id, user_id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
        ]
        if dialect == .postgres {
            for table in Self.tables { statements += PostgresRowLevelSecurity.isolate(table) }
        }
        try await execute(statements, on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["DROP INDEX IF EXISTS appointments_by_start"] + Self.tables.reversed().map { "DROP TABLE IF EXISTS \($0)" }, on: database)
    }
}
