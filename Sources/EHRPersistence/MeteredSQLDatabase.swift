import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import SQLKit

/// Connection use of one database, exported as gauges: `ehr_db_connections_in_use` (queries and
/// transactions holding a pooled connection now) and `ehr_db_connections_waiting` (those beyond the pool's
/// size, which must be waiting for a connection). Counted at the repository boundary, because FluentKit's
/// pool does not report its own state.
final class ConnectionUsage: Sendable {
    let capacity: Int
    private let inUse = NIOLockedValueBox(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    func begin() {
        record(
            inUse.withLockedValue {
                $0 += 1
                return $0
            })
    }
    func end() {
        record(
            inUse.withLockedValue {
                $0 -= 1
                return $0
            })
    }

    private func record(_ count: Int) {
        Gauge(label: "ehr_db_connections_in_use").record(min(count, capacity))
        Gauge(label: "ehr_db_connections_waiting").record(max(0, count - capacity))
    }
}

/// The SQLKit database with every statement counted in ``ConnectionUsage``.
struct MeteredSQLDatabase: SQLDatabase {
    let base: any SQLDatabase
    let usage: ConnectionUsage

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        usage.begin()
        return base.execute(sql: query, onRow).always { [usage] _ in usage.end() }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        usage.begin()
        defer { usage.end() }
        try await base.execute(sql: query, onRow)
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        usage.begin()
        defer { usage.end() }
        return try await base.withSession(closure)
    }
}

/// The database after shutdown: every statement fails with ``StorageError/unavailable``.
struct ClosedSQLDatabase: SQLDatabase {
    let logger: Logger
    let eventLoop: any EventLoop
    let dialect: any SQLDialect
    var version: (any SQLDatabaseReportedVersion)? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFailedFuture(StorageError.unavailable)
    }
}
