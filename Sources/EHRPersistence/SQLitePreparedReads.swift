import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import VaporCSQLite

/// SQLite's hot list read on read-only connections of its own that keep each statement prepared. sqlite-nio
/// prepares every statement again and keeps no cache (its connection handle is internal): the list's readers
/// spent 80 of their 267 µs per request in `sqlite3Prepare` (`perf script` of `PROFILE_DB=sqlite bench/profile`).
///
/// A statement runs on the caller's thread (an event loop, in the server) as long as it never waits for a lock:
/// the list is one bounded, index-driven read of pages in memory (about 100 µs), and handing it to NIO's thread
/// pool and back cost the server 60 of its 515 µs of CPU a request (the wake-ups and switches of two hops). A
/// reader meets a lock only while the log is being recovered or another process holds the file exclusively; that
/// statement fails at once with `SQLITE_BUSY` and runs again on the thread pool, where it waits, sleeping, as the
/// writer does. A connection serves one statement at a time; there are never more than the callers' threads and
/// the pool's.
final class SQLitePreparedReads: Sendable {
    /// The SQLite URI naming the database read-only (``EHRDatabase/readOnlyURI(_:)``).
    private let uri: String
    private let threadPool: NIOThreadPool
    /// Connections waiting for a statement; nil once shut down.
    private let idle = NIOLockedValueBox<[Connection]?>([])
    private let lockWaits = NIOLockedValueBox(0)
    /// Distinct statements kept per connection; past it the connection starts its cache over (the list's text
    /// varies only with its filters and page size, so this is never reached in practice).
    static let statementsPerConnection = 64

    init(uri: String, threadPool: NIOThreadPool = .singleton) {
        self.uri = uri
        self.threadPool = threadPool
    }

    /// Runs `query` and returns its rows, each as its columns' values in order.
    func rows(_ query: SQLQueryString, dialect database: any SQLDatabase) async throws -> [[SQLiteData]] {
        var serializer = SQLSerializer(database: database)
        query.serialize(to: &serializer)
        let encoder = SQLiteDataEncoder()
        let binds = try serializer.binds.map { try encoder.encode($0) }
        let sql = serializer.sql
        do {
            return try run(sql, binds, waitingForLocks: false)
        } catch let failure as SQLiteReadFailure where failure.isBusy {
            lockWaits.withLockedValue { $0 += 1 }
        }
        return try await threadPool.runIfActive { [self] in try run(sql, binds, waitingForLocks: true) }
    }

    private func run(_ sql: String, _ binds: [SQLiteData], waitingForLocks: Bool) throws -> [[SQLiteData]] {
        let connection = try checkOut()
        // A connection whose statement failed is not put back (it closes as it goes).
        let rows = try connection.run(sql, binds, waitingForLocks: waitingForLocks)
        checkIn(connection)
        return rows
    }

    /// How many statements met a lock on the caller's thread and ran again on the thread pool; for tests.
    func statementsMovedForLocks() -> Int { lockWaits.withLockedValue { $0 } }

    /// How many times SQLite prepared the idle connections' kept statements again (a statement expired by a
    /// schema change or by clearing its values); for tests.
    func reprepares() -> Int {
        idle.withLockedValue { ($0 ?? []).reduce(0) { $0 + $1.reprepares() } }
    }

    /// Closes every idle connection; those in use close when their statement ends.
    func shutdown() {
        idle.withLockedValue { $0 = nil }
    }

    private func checkOut() throws -> Connection {
        if let connection = idle.withLockedValue({ $0?.popLast() }) { return connection }
        return try Connection(uri: uri)
    }

    private func checkIn(_ connection: Connection) {
        idle.withLockedValue { $0?.append(connection) }
    }

    /// One read-only connection and its prepared statements; used by one thread at a time (checked out of `idle`).
    private final class Connection: @unchecked Sendable {
        private let handle: OpaquePointer
        private var statements: [String: OpaquePointer] = [:]
        private var waitsForLocks = false

        init(uri: String) throws {
            var handle: OpaquePointer?
            let status = sqlite_nio_sqlite3_open_v2(uri, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nil)
            guard status == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
                sqlite_nio_sqlite3_close_v2(handle)
                throw SQLiteReadFailure(code: status, message: message)
            }
            self.handle = handle
            sqlite_nio_sqlite3_busy_timeout(handle, 0)
        }

        deinit {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            sqlite_nio_sqlite3_close_v2(handle)
        }

        /// `waitingForLocks`: whether a lock is waited for (sleeping, up to ``EHRDatabase/writerLockWait``) or fails
        /// the statement at once with `SQLITE_BUSY`.
        func run(_ sql: String, _ binds: [SQLiteData], waitingForLocks: Bool) throws -> [[SQLiteData]] {
            if waitingForLocks != waitsForLocks {
                sqlite_nio_sqlite3_busy_timeout(handle, waitingForLocks ? Int32(EHRDatabase.writerLockWait) : 0)
                waitsForLocks = waitingForLocks
            }
            let statement = try prepared(sql)
            // Every parameter is bound again on each run, so the old values are never cleared first: clearing them
            // expired the statement and SQLite prepared it again inside the next step (`sqlite3Reprepare`, 69 µs a
            // list under `perf`), whatever the new values.
            defer { sqlite_nio_sqlite3_reset(statement) }
            let parameters = sqlite_nio_sqlite3_bind_parameter_count(statement)
            guard parameters == Int32(binds.count) else {
                throw SQLiteReadFailure(code: SQLITE_RANGE, message: "\(binds.count) values for \(parameters) parameters")
            }
            for (index, value) in binds.enumerated() { try bind(value, at: Int32(index + 1), to: statement) }
            let columns = sqlite_nio_sqlite3_column_count(statement)
            var rows: [[SQLiteData]] = []
            while true {
                let status = sqlite_nio_sqlite3_step(statement)
                if status == SQLITE_DONE { return rows }
                guard status == SQLITE_ROW else { throw error(status) }
                var row: [SQLiteData] = []
                row.reserveCapacity(Int(columns))
                for column in 0..<columns { row.append(value(of: statement, column: column)) }
                rows.append(row)
            }
        }

        func reprepares() -> Int {
            statements.values.reduce(0) { $0 + Int(sqlite_nio_sqlite3_stmt_status($1, SQLITE_STMTSTATUS_REPREPARE, 0)) }
        }

        private func prepared(_ sql: String) throws -> OpaquePointer {
            if let statement = statements[sql] { return statement }
            if statements.count >= SQLitePreparedReads.statementsPerConnection {
                for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
                statements.removeAll()
            }
            var statement: OpaquePointer?
            let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
            guard status == SQLITE_OK, let statement else { throw error(status) }
            statements[sql] = statement
            return statement
        }

        private func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) throws {
            let status: Int32
            switch value {
            case .integer(let integer): status = sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
            case .float(let double): status = sqlite_nio_sqlite3_bind_double(statement, index, double)
            case .text(let text): status = sqlite_nio_sqlite3_bind_text(statement, index, text, -1, Self.transient)
            case .blob(let blob):
                status = blob.withUnsafeReadableBytes {
                    sqlite_nio_sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient)
                }
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw error(status) }
        }

        private func value(of statement: OpaquePointer, column: Int32) -> SQLiteData {
            switch sqlite_nio_sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
            case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
            case SQLITE_TEXT:
                guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
                let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
            case SQLITE_BLOB:
                let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                guard let bytes = sqlite_nio_sqlite3_column_blob(statement, column), count > 0 else { return .blob(ByteBuffer()) }
                return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
            default: return .null
            }
        }

        private func error(_ status: Int32) -> SQLiteReadFailure {
            SQLiteReadFailure(code: status, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
        }

        /// SQLITE_TRANSIENT: SQLite copies the bound text or bytes before the call returns.
        private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    }
}

/// A statement of ``SQLitePreparedReads`` that SQLite refused: its result code and message (SQLite's own words,
/// never a bound value).
struct SQLiteReadFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "SQLite error \(code): \(message)" }
    /// Whether the statement failed because it met a lock (`SQLITE_BUSY` or one of its extended codes).
    var isBusy: Bool { code & 0xff == SQLITE_BUSY }
}
