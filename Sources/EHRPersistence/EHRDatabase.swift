import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// Owns the connection pools and runs migrations. Wired by hand on FluentKit's `Databases`
/// (no Vapor): one instance per process, shut down on exit.
public final class EHRDatabase: Sendable {
    public let dialect: SQLDialectKind
    let usage: ConnectionUsage
    private let databases: Databases
    private let id: DatabaseID
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    /// Opens the pools. SQLite runs on one connection (writes are serialised anyway, and a single
    /// connection avoids lock-upgrade failures); PostgreSQL uses `poolSize` connections per event loop.
    public init(_ configuration: DatabaseConfiguration, logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.databases = Databases(threadPool: NIOThreadPool.singleton, on: eventLoopGroup)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        switch configuration {
        case .sqlite(let path):
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 1, sqlLogLevel: .trace), as: .sqlite)
            self.id = .sqlite
            self.dialect = .sqlite
            self.usage = ConnectionUsage(capacity: 1)
        case .postgres(let url, let poolSize):
            databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: poolSize, connectionPoolTimeout: .seconds(10), sqlLogLevel: .trace), as: .psql)
            self.id = .psql
            self.dialect = .postgres
            var loops = 0
            for _ in eventLoopGroup.makeIterator() { loops += 1 }
            self.usage = ConnectionUsage(capacity: poolSize * max(1, loops))
        }
    }

    /// A database handle. SQLite handles all share one event loop, hence one connection.
    public var fluent: any Database {
        let loop = dialect == .sqlite ? sqliteLoop : eventLoopGroup.any()
        return databases.database(id, logger: logger, on: loop)!
    }

    /// The same handle as SQLKit, for hand-written queries.
    public var sql: any SQLDatabase { MeteredSQLDatabase(base: fluent as! any SQLDatabase, usage: usage) }

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
        let loop = dialect == .sqlite ? sqliteLoop : eventLoopGroup.any()
        guard let database = databases.database(id, logger: logger, on: loop) else { throw StorageError.unavailable }
        return try await database.transaction { db in try await body(db as! any SQLDatabase) }
    }

    /// Applies every pending migration, including the dialect-specific ones.
    public func migrate() async throws {
        if dialect == .sqlite {
            // WAL persists in the file; it lets readers proceed while a write commits.
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        let migrations = Migrations()
        migrations.add(EHRMigrations.all(for: dialect))
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// Whether the database answers a trivial query.
    public func ping() async -> Bool {
        (try? await sql.raw("SELECT 1 AS one").first()) != nil
    }

    public func shutdown() async {
        await databases.shutdownAsync()
    }
}
