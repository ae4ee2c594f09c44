import FluentKit
import SQLKit

/// The ordered list of schema migrations. Never reorder or edit a shipped migration; add a new one.
public enum EHRMigrations {
    static func all(for dialect: SQLDialectKind) -> [any Migration] {
        var list: [any Migration] = [CreateCoreSchema(dialect: dialect)]
        switch dialect {
        case .sqlite: list.append(SQLiteIntegrityTriggers())
        case .postgres: list.append(PostgresIntegrityConstraints())
        }
        list.append(ComplianceSchema(dialect: dialect))
        switch dialect {
        case .sqlite: list.append(SQLiteComplianceTriggers())
        case .postgres: list.append(PostgresComplianceRules())
        }
        list.append(HardeningSchema(dialect: dialect))
        list.append(WebSessionSchema(dialect: dialect))
        if dialect == .postgres { list.append(PostgresRowLevelSecurity()) }
        list.append(AppointmentCareTherapist(dialect: dialect))
        if dialect == .postgres { list += [PostgresAuditInbox(), PostgresAuditListIndex()] }
        list.append(MessagingSchema(dialect: dialect))
        list.append(NotificationSchema(dialect: dialect))
        list.append(TelevisitSchema(dialect: dialect))
        if dialect == .sqlite { list += [SQLiteDeferredAccessIndex(), SQLiteAuditHeadTriggers(), SQLiteCompactAccessIndex()] }
        if dialect == .postgres { list.append(PostgresUnlockedTenantKeys()) }
        return list
    }
}

/// Runs each statement in order on the migration's connection.
func execute(_ statements: [String], on database: any Database) async throws {
    let sql = database as! any SQLDatabase
    for statement in statements {
        try await sql.raw(SQLQueryString(statement)).run()
    }
}
