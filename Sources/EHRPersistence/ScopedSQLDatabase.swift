import FluentKit
import Logging
import NIOCore
import SQLKit

/// PostgreSQL statements run in the ``DatabaseScope`` of the task that sends them: each checks out a pooled
/// connection, puts it in that scope (one `set_config` round trip), then runs. Every checkout sets the scope
/// anew, so nothing a previous user of the connection set can leak into the next. Counted like
/// ``MeteredSQLDatabase``.
struct ScopedSQLDatabase: SQLDatabase {
    let database: EHRDatabase
    let base: any Database
    let usage: ConnectionUsage

    private var sqlBase: any SQLDatabase { base as! any SQLDatabase }
    var logger: Logger { sqlBase.logger }
    var eventLoop: any EventLoop { sqlBase.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { sqlBase.version }
    var dialect: any SQLDialect { sqlBase.dialect }
    var queryLogLevel: Logger.Level? { sqlBase.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let scope = DatabaseScope.current
        return eventLoop.makeFutureWithTask {
            try await DatabaseScope.$current.withValue(scope) { try await self.execute(sql: query, onRow) }
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await withSession { try await $0.execute(sql: query, onRow) }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        usage.begin()
        defer { usage.end() }
        let scope = DatabaseScope.current
        let database = self.database
        // `withConnection` needs a Sendable result; the closure's result is handed back through a box.
        let box = ResultBox<R>()
        try await base.withConnection { connection in
            try await ConnectionDeadline.run(EHRDatabase.deadline(for: scope), on: connection) {
                let sql = connection as! any SQLDatabase
                try await database.enter(scope, on: sql, local: false, connectionID: try await EHRDatabase.connectionID(of: connection))
                box.value = try await closure(sql)
            }
        }
        return box.value!
    }
}

/// Carries a non-Sendable result out of a `@Sendable` closure that ran to completion before it is read.
private final class ResultBox<R>: @unchecked Sendable {
    var value: R?
}
