import FluentKit

/// The seats of the televisit rooms: at most one row per room and role (the therapist's seat, the client's seat),
/// so exactly two participants are in a room whichever instances they joined through. A row is held by one
/// socket (`connection_id`) for a lease the socket renews; a server that died mid-call leaves rows whose lease
/// runs out, and the next join takes them. Row-level security on PostgreSQL as on every practice table.
struct TelevisitSchema: AsyncMigration {
    let dialect: SQLDialectKind
    var name: String { "TelevisitSchema" }

    func prepare(on database: any Database) async throws {
        let (uuid, ts, bool) = dialect == .postgres ? ("uuid", "timestamptz", "boolean") : ("TEXT", "REAL", "INTEGER")
        var statements = [
            """
            CREATE TABLE televisit_seats (
                tenant_id \(uuid) NOT NULL REFERENCES tenants (id),
                room_id TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('therapist', 'client')),
                appointment_id \(uuid) NOT NULL,
                user_id \(uuid) NOT NULL,
                connection_id \(uuid) NOT NULL UNIQUE,
                admitted \(bool) NOT NULL,
                joined_at \(ts) NOT NULL,
                lease_until \(ts) NOT NULL,
                PRIMARY KEY (tenant_id, room_id, role),
                FOREIGN KEY (tenant_id, appointment_id) REFERENCES appointments (tenant_id, id),
                FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
            )
            """
        ]
        if dialect == .postgres { statements += PostgresRowLevelSecurity.isolate("televisit_seats") }
        try await execute(statements, on: database)
    }

    func revert(on database: any Database) async throws {
        try await execute(["DROP TABLE IF EXISTS televisit_seats"], on: database)
    }
}
