import FluentKit
import FluentPostgresDriver
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SQLKit

/// The hottest list (upcoming appointments) decoded straight from PostgresNIO rows: a profile showed
/// SQLKit's `Codable` row decoding costing far more than the query itself. The SQL is the same
/// `SQLQueryString`, serialised by SQLKit; only decoding differs. Other dialects return nil and take
/// the general path.
enum PostgresFastRows {
    static func appointments(_ query: SQLQueryString, on database: EHRDatabase) async throws -> [AppointmentRow]? {
        guard database.dialect == .postgres, let postgres = database.fluent as? any PostgresDatabase else { return nil }
        let (text, binds) = database.sql.serialize(query)
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case let value as UUID: bindings.append(value)
            case let value as Date: bindings.append(value)
            case let value as String: bindings.append(value)
            case let value as Int: bindings.append(value)
            default: return nil  // an unexpected bind type: use the general path
            }
        }
        let statement = PostgresQuery(unsafeSQL: text, binds: bindings)
        let scope = DatabaseScope.current
        let logger = postgres.logger
        let deadline = EHRDatabase.deadline(for: DatabaseScope.current)
        return try await database.fluent.withConnection { checkout in
            try await ConnectionDeadline.run(deadline, on: checkout) {
                try await rows(of: statement, in: scope, of: database, on: checkout as! any PostgresDatabase, logger: logger)
            }
        }
    }

    private static func rows(
        of statement: PostgresQuery, in scope: DatabaseScope?, of database: EHRDatabase, on postgres: any PostgresDatabase, logger: Logger
    ) async throws -> [AppointmentRow] {
        try await postgres.withConnection { connection in
            connection.eventLoop.makeFutureWithTask {
                try await database.enter(scope, connection: connection, logger: logger)
                var rows: [AppointmentRow] = []
                for try await row in try await connection.query(statement, logger: logger) {
                    let (id, tenantID, patientID, therapistID, startsAt, endsAt, timeZone, status, kind, reason, cancellation, createdAt, updatedAt) =
                        try row.decode((UUID, UUID, UUID, UUID, Date, Date, String, String, String, String?, String?, Date, Date).self)
                    rows.append(
                        AppointmentRow(
                            id: id, tenantId: tenantID, patientId: patientID, therapistId: therapistID, startsAt: startsAt, endsAt: endsAt,
                            timeZone: timeZone, status: status, kind: kind, reason: reason, cancellationReason: cancellation,
                            createdAt: createdAt, updatedAt: updatedAt))
                }
                return rows
            }
        }.get()
    }
}
