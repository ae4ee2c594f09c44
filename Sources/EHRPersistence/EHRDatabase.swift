import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import SQLKit
import SQLiteNIO

/// Owns the connection pools and runs migrations. Wired by hand on FluentKit's `Databases`
/// (no Vapor): one instance per process, shut down on exit.
public final class EHRDatabase: Sendable {
    public let dialect: SQLDialectKind
    let usage: ConnectionUsage
    private let databases: Databases
    private let id: DatabaseID
    let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    let configuration: DatabaseConfiguration
    /// False only for the benchmark that measures the backstop's cost: no scope is set on any connection.
    private let rowLevelSecurity: Bool
    /// The role statements run as in PostgreSQL (`ehr_service` when the connecting role may take it), found once.
    private let serviceRole = NIOLockedValueBox<String?>(nil)
    /// The session-level scope (role, practice, path) each pooled PostgreSQL connection is in, by connection id.
    private let sessionScopes = NIOLockedValueBox<[Int: String]>([:])
    /// Pool handles by database and event loop (see ``handle(on:)``).
    private let handles = NIOLockedValueBox<[HandleKey: any Database]>([:])
    /// SQLite only: the read-only connections behind ``reads``.
    private let sqliteSidePools: Databases?
    /// SQLite only: the read-only connections behind ``preparedRows(_:)``.
    private let sqlitePreparedReads: SQLitePreparedReads?
    private let shutDown = NIOLockedValueBox(false)

    /// Opens the pools. SQLite writes on one connection (writes are serialised anyway, and a single
    /// connection avoids lock-upgrade failures) and reads the hot lists on read-only connections of their own
    /// (see ``reads``); PostgreSQL uses `poolSize` connections per event loop.
    public init(
        _ configuration: DatabaseConfiguration, logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        rowLevelSecurity: Bool = true
    ) throws {
        self.rowLevelSecurity = rowLevelSecurity
        self.databases = Databases(threadPool: configuration.isSQLite ? Self.sqliteWriterThreads : NIOThreadPool.singleton, on: eventLoopGroup)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.configuration = configuration
        switch configuration {
        case .sqlite(let path):
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 1, sqlLogLevel: .trace), as: .sqlite)
            // The checkpointer's own connection (see checkpointWAL), on the writer's threads: its copy takes tens of
            // milliseconds, which on NIO's pool would hold up the readers' lists.
            databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 1, sqlLogLevel: .trace), as: .sqliteCheckpoints)
            let side = Databases(threadPool: NIOThreadPool.singleton, on: eventLoopGroup)
            side.use(
                .sqlite(.file(Self.readOnlyURI(path)), maxConnectionsPerEventLoop: Self.sqliteReadersPerEventLoop, sqlLogLevel: .trace),
                as: .sqliteReads)
            self.sqliteSidePools = side
            self.sqlitePreparedReads = SQLitePreparedReads(uri: Self.readOnlyURI(path))
            self.id = .sqlite
            self.dialect = .sqlite
            // The writer, the checkpointer and the read-only connections share the gauges: all of them are "in use"
            // before any waits.
            self.usage = ConnectionUsage(capacity: 2 + Self.sqliteReadersPerEventLoop * Self.loopCount(eventLoopGroup))
        case .postgres(let url, let poolSize):
            databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: poolSize, connectionPoolTimeout: .seconds(10), sqlLogLevel: .trace), as: .psql)
            self.id = .psql
            self.sqliteSidePools = nil
            self.sqlitePreparedReads = nil
            self.dialect = .postgres
            self.usage = ConnectionUsage(capacity: poolSize * Self.loopCount(eventLoopGroup))
        }
    }

    private static func loopCount(_ group: any EventLoopGroup) -> Int {
        var loops = 0
        for _ in group.makeIterator() { loops += 1 }
        return max(1, loops)
    }

    /// A database handle. SQLite handles all share one event loop, hence one connection.
    public var fluent: any Database {
        handle(on: dialect == .sqlite ? sqliteLoop : eventLoopGroup.any())!
    }

    /// The handle of one event loop's pool, made once: making one per statement showed in request profiles.
    /// Nil once the pools are shut down.
    /// `side`: another of SQLite's pools than the writer's: the read-only connections (``reads``, in the side
    /// pools) or the checkpointer's (in the main pools, on the writer's threads: see ``checkpointWAL(restart:)``).
    private func handle(on loop: any EventLoop, side: DatabaseID? = nil) -> (any Database)? {
        guard !isShutDown else { return nil }
        let key = HandleKey(database: side?.string ?? "", loop: ObjectIdentifier(loop))
        if let handle = handles.withLockedValue({ $0[key] }) { return handle }
        let found =
            if let side, side != .sqliteCheckpoints, let sqliteSidePools { sqliteSidePools.database(side, logger: logger, on: loop) } else {
                databases.database(side ?? id, logger: logger, on: loop)
            }
        guard let handle = found else { return nil }
        handles.withLockedValue { $0[key] = handle }
        return handle
    }

    /// The same handle as SQLKit, for hand-written queries. In PostgreSQL each statement runs in the current
    /// task's ``DatabaseScope``.
    public var sql: any SQLDatabase {
        // After shutdown (a socket that outlived the service as it stopped): every statement fails, nothing traps.
        guard !isShutDown else {
            let sqlDialect: any SQLDialect = dialect == .postgres ? PostgresDialect() : SQLiteDialect()
            return ClosedSQLDatabase(logger: logger, eventLoop: eventLoopGroup.any(), dialect: sqlDialect)
        }
        if dialect == .postgres && rowLevelSecurity {
            return ScopedSQLDatabase(database: self, base: fluent, usage: usage)
        } else {
            return MeteredSQLDatabase(base: fluent as! any SQLDatabase, usage: usage)
        }
    }

    /// For reads that need not see the caller's own open transaction: the hot lists. SQLite: a pool of read-only
    /// connections (WAL lets them read the last commit while the single writer connection commits, so a list
    /// does not queue behind the audit writer's flushes); they refuse writes. PostgreSQL: ``sql``.
    public var reads: any SQLDatabase {
        guard sqliteSidePools != nil, let handle = handle(on: eventLoopGroup.any(), side: .sqliteReads) else { return sql }
        return MeteredSQLDatabase(base: handle as! any SQLDatabase, usage: usage)
    }

    /// SQLite: the rows of a hot list's `query`, each as its columns' values in order, read on read-only connections
    /// that keep the statement prepared (see ``SQLitePreparedReads``); like ``reads`` they see the last commit and
    /// refuse writes. Nil on PostgreSQL.
    func preparedRows(_ query: SQLQueryString) async throws -> [[SQLiteData]]? {
        guard let sqlitePreparedReads, !isShutDown else { return nil }
        usage.begin()
        defer { usage.end() }
        return try await sqlitePreparedReads.rows(query, dialect: sql)
    }

    /// SQLite: how many times the prepared readers' statements were prepared again (see
    /// ``SQLitePreparedReads/reprepares()``); nil on PostgreSQL.
    func preparedReadsReprepares() -> Int? { sqlitePreparedReads?.reprepares() }

    /// SQLite: how many hot-list statements met a lock on the caller's thread and waited on the thread pool
    /// instead (see ``SQLitePreparedReads``); nil on PostgreSQL.
    func preparedReadsMovedForLocks() -> Int? { sqlitePreparedReads?.statementsMovedForLocks() }

    /// SQLite: copies the write-ahead log into the database file and lets the next write start the log over, in two
    /// steps. A passive checkpoint on a connection of its own copies the bulk beside the writer, which goes on
    /// committing; alone it never caught up with a busy writer, so the log was never started over and every commit
    /// wrote its frames into new file space (181 and 212 MB of log 10 s into a list load, at about 30 kB an audited
    /// read). Then a RESTART checkpoint on the writer's connection, between two of its transactions, copies what
    /// was committed meanwhile and the next write starts the log over: the writer stops only for that remainder
    /// (under a list load, passes of 15,000 to 20,000 frames: the passive step 18 to 41 ms, the writer's 20 to 31 ms,
    /// where the whole copy on the writer had stopped it 20 to 100 ms a second). Readers never stop: the
    /// RESTART waits at most ``checkpointReaderWait`` for the readers still on the old log and, past it, copies what
    /// it can. `restart: false` is the passive step alone (see ``SQLiteCheckpointPolicy``). Returns the frames in
    /// the log and how many of them are now in the database file; nil on PostgreSQL.
    @discardableResult
    public func checkpointWAL(restart: Bool = true) async throws -> (logFrames: Int, checkpointedFrames: Int)? {
        guard dialect == .sqlite, let writer = handle(on: sqliteLoop), let checkpointer = handle(on: sqliteLoop, side: .sqliteCheckpoints) else { return nil }
        struct Row: Decodable {
            var log: Int
            var checkpointed: Int
        }
        usage.begin()
        defer { usage.end() }
        // First the bulk of the copy, beside the writer (which goes on committing): a passive checkpoint on the
        // checkpointer's own connection.
        let started = ContinuousClock.now
        let passive = try await PooledCheckout.with(checkpointer) { connection in
            try await (connection as! any SQLDatabase).raw("PRAGMA wal_checkpoint(PASSIVE)").first(decoding: Row.self).map { ($0.log, $0.checkpointed) }
        }
        BackgroundWorkMetrics.checkpointStep("passive", since: started)
        guard restart else { return passive }
        let writerStarted = ContinuousClock.now
        defer { BackgroundWorkMetrics.checkpointStep("writer", since: writerStarted) }
        // Then, on the writer between two of its transactions, what it committed meanwhile, and the log starts over.
        return try await PooledCheckout.with(writer) { connection in
            let sql = connection as! any SQLDatabase
            try await sql.raw("PRAGMA busy_timeout=\(unsafeRaw: String(Self.checkpointReaderWait))").run()
            let row: Row?
            do {
                row = try await sql.raw("PRAGMA wal_checkpoint(RESTART)").first(decoding: Row.self)
            } catch {
                try? await sql.raw("PRAGMA busy_timeout=\(unsafeRaw: String(Self.writerLockWait))").run()
                throw error
            }
            try await sql.raw("PRAGMA busy_timeout=\(unsafeRaw: String(Self.writerLockWait))").run()
            return row.map { ($0.log, $0.checkpointed) }
        }
    }

    /// Milliseconds the checkpoint waits for readers still on the old log (a list takes well under one).
    static let checkpointReaderWait = 200
    /// Milliseconds the writer waits for another process's write lock (the command line beside a server, a
    /// server and its successor) before its statement fails, sleeping between tries. sqlite-nio's own busy
    /// handler retries at once, forever, on a core of its own.
    public static let writerLockWait = 60_000

    /// The threads SQLite's writer connections run their statements on, apart from NIO's pool where the readers'
    /// run: an audit flush's statements queued behind every list read in flight (9 ms a flush of four events, of
    /// which the commit's fsync was 1.3 ms). Process-wide, so never shut down (sqlite-nio asserts that every
    /// connection is closed on its pool's threads). A server has one writer; four threads keep the databases of a
    /// test process (many at once) from waiting on each other's commits.
    private static let sqliteWriterThreads: NIOThreadPool = {
        let threads = NIOThreadPool(numberOfThreads: 4)
        threads.start()
        return threads
    }()

    /// Read-only connections per event loop in SQLite (their statements run on NIO's thread pool).
    static let sqliteReadersPerEventLoop = 2

    /// An SQLite URI filename opening `path` read-only (sqlite-nio opens with `SQLITE_OPEN_URI`).
    static func readOnlyURI(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?mode=ro"
    }

    private var sqliteLoop: any EventLoop {
        // The first loop of the group is stable for the life of the process.
        var iterator = eventLoopGroup.makeIterator()
        return iterator.next()!
    }

    /// Runs `body` in one transaction; everything it writes commits together or not at all.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        // A transaction holds one connection throughout; its statements are not counted again.
        usage.begin()
        defer { usage.end() }
        // After shutdown (a straggling audit flush while the service stops) there is no database to use: fail the
        // work instead of trapping on the missing handle.
        guard let database = handle(on: dialect == .sqlite ? sqliteLoop : eventLoopGroup.any()) else { throw StorageError.unavailable }
        let scope = DatabaseScope.current
        guard dialect == .postgres else {
            return try await PooledCheckout.with(database) { connection in
                let sql = connection as! any SQLDatabase
                // IMMEDIATE takes the write lock first. A deferred transaction that read and then wrote failed with
                // SQLITE_BUSY_SNAPSHOT when another process on the file committed in between (a server being
                // killed and its successor, the command line beside a server).
                return try await Self.committing(on: sql, begin: "BEGIN IMMEDIATE") { try await body(sql) }
            }
        }
        // PostgreSQL: BEGIN … COMMIT by hand, so the whole transaction, COMMIT included, runs under the checkout's
        // deadline (see ConnectionDeadline).
        let box = TransactionResult<T>()
        try await PooledCheckout.with(database) { [self] connection in
            try await ConnectionDeadline.run(Self.deadline(for: scope), on: connection) { [self] in
                let sql = connection as! any SQLDatabase
                let id = try await Self.connectionID(of: connection)
                let result = try await Self.committing(on: sql, begin: "BEGIN") { [self] in
                    // Skipped when the connection's session is already in this scope (see sessionScopes); otherwise
                    // set for this transaction only, so the session scope the cache records stays true.
                    try await enter(scope, on: sql, local: true, connectionID: id)
                    return try await body(sql)
                }
                box.set(result)
            }
        }
        return box.value!
    }

    /// `begin`, then `work`, then COMMIT; ROLLBACK when anything throws.
    private static func committing<T>(on sql: any SQLDatabase, begin: SQLQueryString, _ work: () async throws -> T) async throws -> T {
        try await sql.raw(begin).run()
        do {
            let result = try await work()
            try await sql.raw("COMMIT").run()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }

    /// How long one checkout may take: requests get seconds (a dead server must not hold them), the operator's
    /// commands and maintenance minutes (bulk loads, re-encryption batches).
    static func deadline(for scope: DatabaseScope?) -> TimeInterval {
        switch scope {
        case .system(.administration), .system(.maintenance): 600
        default: 15
        }
    }

    /// Puts a PostgreSQL connection in `scope` (nil: no practice visible) for the rest of the transaction
    /// (`local`) or of this checkout: the service role, `app.tenant_id` and `app.system`, in one statement that
    /// always sets all three, so nothing from an earlier checkout of the connection survives. A pooled connection
    /// (`connectionID`) already in that scope at session level skips the round trip (see ``sessionScopes``).
    func enter(_ scope: DatabaseScope?, on db: any SQLDatabase, local: Bool, connectionID: Int? = nil) async throws {
        guard dialect == .postgres, rowLevelSecurity else { return }
        let (role, tenant, system) = try await settings(for: scope, on: db)
        let key = "\(role)|\(tenant)|\(system)"
        if let connectionID, sessionScopes.withLockedValue({ $0[connectionID] }) == key { return }
        try await db.raw(
            """
            SELECT set_config('role', \(bind: role), \(bind: local)), set_config('app.tenant_id', \(bind: tenant), \(bind: local)),
                set_config('app.system', \(bind: system), \(bind: local))
            """
        ).run()
        if let connectionID, !local { remember(key, for: connectionID) }
    }

    /// ``enter(_:on:local:connectionID:)`` for a raw PostgresNIO connection, checkout-wide.
    func enter(_ scope: DatabaseScope?, connection: PostgresConnection, logger: Logger) async throws {
        guard dialect == .postgres, rowLevelSecurity else { return }
        let (role, tenant, system) = try await settings(for: scope, on: sql)
        let key = "\(role)|\(tenant)|\(system)"
        if sessionScopes.withLockedValue({ $0[connection.id] }) == key { return }
        var binds = PostgresBindings(capacity: 3)
        binds.append(role)
        binds.append(tenant)
        binds.append(system)
        let query = PostgresQuery(
            unsafeSQL: "SELECT set_config('role', $1, false), set_config('app.tenant_id', $2, false), set_config('app.system', $3, false)",
            binds: binds)
        _ = try await connection.query(query, logger: logger).collect()
        remember(key, for: connection.id)
    }

    /// The PostgresNIO connection id under a FluentKit checkout.
    static func connectionID(of connection: any Database) async throws -> Int? {
        guard let postgres = connection as? any PostgresDatabase else { return nil }
        return try await postgresConnection(of: postgres).id
    }

    /// The PostgresNIO connection under a FluentKit checkout, for the caller to use while it holds the checkout.
    /// Used in the caller's own task: `withConnection`'s future-returning closure otherwise needs a task of its
    /// own per checkout (`makeFutureWithTask`: a task created and two switches for every statement's checkout).
    static func postgresConnection(of checkout: any PostgresDatabase) async throws -> PostgresConnection {
        try await checkout.withConnection { $0.eventLoop.makeSucceededFuture($0) }.get()
    }

    private func settings(for scope: DatabaseScope?, on db: any SQLDatabase) async throws -> (role: String, tenant: String, system: String) {
        let role = try await serviceRole(on: db)
        let (tenant, system) = scope?.settings ?? ("", "")
        return (role, tenant, system)
    }

    /// Records the session-level scope a connection was put in. Connection ids are unique in the process
    /// (PostgresKit counts them), so an entry can only be stale for a closed connection, which is never checked
    /// out again; the map is emptied when it grows past any pool's size, which costs one round trip each.
    private func remember(_ key: String, for connectionID: Int) {
        sessionScopes.withLockedValue { scopes in
            if scopes.count > 4096 { scopes.removeAll() }
            scopes[connectionID] = key
        }
    }

    /// `ehr_service` when that role exists and the connecting role may act as it (a superuser, or a member such as
    /// `ehr_app`); otherwise `none` (the connecting role itself, still under the forced row-level security unless
    /// it is a superuser or has BYPASSRLS: see docs/security.md).
    private func serviceRole(on db: any SQLDatabase) async throws -> String {
        if let known = serviceRole.withLockedValue({ $0 }) { return known }
        struct Row: Decodable { var role: String }
        let row = try await db.raw(
            """
            SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ehr_service') THEN 'none'
                WHEN pg_has_role(session_user, 'ehr_service', 'MEMBER') THEN 'ehr_service' ELSE 'none' END AS role
            """
        ).first(decoding: Row.self)
        let role = row?.role ?? "none"
        if role == "none" {
            logger.warning("row-level security: the connecting role cannot act as ehr_service; a superuser connection bypasses the backstop")
        }
        serviceRole.withLockedValue { $0 = role }
        return role
    }

    /// Applies every pending migration, including the dialect-specific ones.
    public func migrate() async throws {
        if dialect == .sqlite {
            // WAL persists in the file; it lets readers proceed while a write commits. The rest holds for the writer
            // connection (the pool's only one): checkpoints left to checkpointWAL() (automatic only past 400 MB of
            // log), statement journals in memory, and a page cache that holds the audit tables' hot pages. Each
            // had the audit writer's flush rewrite or re-read pages (strace: 18,000 statement-journal writes and
            // 7,800 log reads in 3 s of list load). Waits for a lock sleep (see writerLockWait).
            try await sql.raw("PRAGMA journal_mode=WAL").run()
            try await sql.raw("PRAGMA wal_autocheckpoint=100000").run()
            try await sql.raw("PRAGMA journal_size_limit=67108864").run()
            try await sql.raw("PRAGMA temp_store=MEMORY").run()
            try await sql.raw("PRAGMA cache_size=-32768").run()
            try await sql.raw("PRAGMA busy_timeout=\(unsafeRaw: String(Self.writerLockWait))").run()
        }
        let migrations = Migrations()
        migrations.add(EHRMigrations.all(for: dialect))
        // PostgreSQL: migrations run as the connecting role on a pool of their own, never on a connection a
        // scoped statement has switched to the service role.
        switch configuration {
        case .sqlite:
            try await migrate(migrations, on: databases)
        case .postgres(let url, _):
            let own = Databases(threadPool: NIOThreadPool.singleton, on: eventLoopGroup)
            own.use(try .postgres(url: url, maxConnectionsPerEventLoop: 1, connectionPoolTimeout: .seconds(10), sqlLogLevel: .trace), as: .psql)
            do {
                try await migrate(migrations, on: own)
            } catch {
                await own.shutdownAsync()
                throw error
            }
            await own.shutdownAsync()
        }
        // A role this run created is seen only by a fresh lookup.
        serviceRole.withLockedValue { $0 = nil }
    }

    private func migrate(_ migrations: Migrations, on databases: Databases) async throws {
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// Whether the database answers a trivial query.
    public func ping() async -> Bool {
        (try? await sql.raw("SELECT 1 AS one").first()) != nil
    }

    public func shutdown() async {
        shutDown.withLockedValue { $0 = true }
        handles.withLockedValue { $0.removeAll() }
        await databases.shutdownAsync()
        await sqliteSidePools?.shutdownAsync()
        sqlitePreparedReads?.shutdown()
    }

    private var isShutDown: Bool { shutDown.withLockedValue { $0 } }

    /// False once the pools are shut down: work that outlives the service (a socket closing as it stops) skips the database.
    public var isOpen: Bool { !isShutDown }
}

/// A pool handle's key: the database and the event loop.
private struct HandleKey: Hashable {
    /// Empty for the main pool.
    let database: String
    let loop: ObjectIdentifier
}

extension DatabaseID {
    /// SQLite's read-only connections (see ``EHRDatabase/reads``).
    static let sqliteReads = DatabaseID(string: "sqlite-reads")
    /// SQLite's checkpointer connection (see ``EHRDatabase/checkpointWAL(restart:)``).
    static let sqliteCheckpoints = DatabaseID(string: "sqlite-checkpoints")
}

/// Carries a transaction's result out of the checkout's `@Sendable` work.
private final class TransactionResult<T: Sendable>: Sendable {
    private let box = NIOLockedValueBox<T?>(nil)
    func set(_ value: T) { box.withLockedValue { $0 = value } }
    var value: T? { box.withLockedValue { $0 } }
}

extension EHRDatabase {
    /// Runs `body` on one pooled PostgreSQL connection in the current task's ``DatabaseScope``, under the
    /// checkout's deadline; nil on SQLite.
    func withScopedConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T? {
        guard dialect == .postgres, fluent is any PostgresDatabase else { return nil }
        let scope = DatabaseScope.current
        return try await PooledCheckout.with(fluent) { checkout in
            try await ConnectionDeadline.run(EHRDatabase.deadline(for: scope), on: checkout) {
                let postgres = checkout as! any PostgresDatabase
                let logger = postgres.logger
                let connection = try await Self.postgresConnection(of: postgres)
                try await self.enter(scope, connection: connection, logger: logger)
                return try await body(connection, logger)
            }
        }
    }
}
