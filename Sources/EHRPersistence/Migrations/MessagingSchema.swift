import FluentKit

/// Secure messaging: one thread per patient, its messages (bodies sealed under the practice's keys like every
/// PHI column) and each participant's read marker. On PostgreSQL the three tables get the same row-level
/// security as every practice table, and messages cannot be deleted (a message is part of the record; key
/// rotation still re-encrypts a body in place).
struct MessagingSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "MessagingSchema" }

    static let tables = ["message_threads", "messages", "message_reads"]

    func prepare(on database: any Database) async throws {
        let (uuid, ts) = dialect == .postgres ? ("uuid", "timestamptz") : ("TEXT", "REAL")
        var statements = [
            """
            CREATE TABLE message_threads (
                id \(uuid) PRIMARY KEY,
                tenant_id \(uuid) NOT NULL REFERENCES tenants (id),
                patient_id \(uuid) NOT NULL,
                created_at \(ts) NOT NULL,
                last_message_at \(ts),
                activity_at \(ts) NOT NULL,
                UNIQUE (tenant_id, id),
                UNIQUE (tenant_id, patient_id),
                FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
            )
            """,
            "CREATE INDEX message_threads_by_activity ON message_threads (tenant_id, activity_at, id)",
            """
            CREATE TABLE messages (
                id \(uuid) PRIMARY KEY,
                tenant_id \(uuid) NOT NULL REFERENCES tenants (id),
                thread_id \(uuid) NOT NULL,
                sender_id \(uuid) NOT NULL,
                body TEXT NOT NULL,
                sent_at \(ts) NOT NULL,
                key_version INTEGER NOT NULL,
                FOREIGN KEY (tenant_id, thread_id) REFERENCES message_threads (tenant_id, id),
                FOREIGN KEY (tenant_id, sender_id) REFERENCES users (tenant_id, id)
            )
            """,
            "CREATE INDEX messages_by_thread ON messages (tenant_id, thread_id, sent_at, id)",
            """
            CREATE TABLE message_reads (
                tenant_id \(uuid) NOT NULL REFERENCES tenants (id),
                thread_id \(uuid) NOT NULL,
                user_id \(uuid) NOT NULL,
                read_at \(ts) NOT NULL,
                PRIMARY KEY (tenant_id, thread_id, user_id),
                FOREIGN KEY (tenant_id, thread_id) REFERENCES message_threads (tenant_id, id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """,
        ]
        switch dialect {
        case .postgres:
            for table in Self.tables { statements += PostgresRowLevelSecurity.isolate(table) }
            statements += [
                """
                CREATE FUNCTION ehr_message_kept() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        RAISE EXCEPTION 'messages are part of the record and cannot be deleted' USING ERRCODE = 'P0001';
                    END IF;
                    IF NEW.id <> OLD.id OR NEW.tenant_id <> OLD.tenant_id OR NEW.thread_id <> OLD.thread_id
                        OR NEW.sender_id <> OLD.sender_id OR NEW.sent_at <> OLD.sent_at THEN
                        RAISE EXCEPTION 'a sent message cannot change' USING ERRCODE = 'P0001';
                    END IF;
                    RETURN NEW;
                END $$
                """,
                "CREATE TRIGGER messages_kept BEFORE UPDATE OR DELETE ON messages FOR EACH ROW EXECUTE FUNCTION ehr_message_kept()",
            ]
        case .sqlite:
            statements += [
                """
                CREATE TRIGGER messages_no_delete BEFORE DELETE ON messages
                BEGIN SELECT RAISE(ABORT, 'messages are part of the record and cannot be deleted'); END
                """,
                """
                CREATE TRIGGER messages_no_change BEFORE UPDATE OF id, tenant_id, thread_id, sender_id, sent_at ON messages
                BEGIN SELECT RAISE(ABORT, 'a sent message cannot change'); END
                """,
            ]
        }
        try await execute(statements, on: database)
    }

    func revert(on database: any Database) async throws {
        var statements = Self.tables.reversed().map { "DROP TABLE IF EXISTS \($0)" }
        if dialect == .postgres { statements.append("DROP FUNCTION IF EXISTS ehr_message_kept()") }
        try await execute(statements, on: database)
    }
}
