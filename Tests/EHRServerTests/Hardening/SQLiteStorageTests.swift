import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Testing

@testable import EHRPersistence
@testable import EHRServer

/// The embedded database's split: lists read on read-only connections of their own while one connection writes,
/// and checkpoints on the writer keep the write-ahead log short. A list must still see every write that was
/// answered, and the read connections must not be a way to write.
@Suite("SQLite readers, writer and checkpoints", .serialized) struct SQLiteStorageTests {
    @Test(arguments: [TestBackend.sqlite])
    func readConnectionsRefuseWrites(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let reads = world.services.database.reads
            struct CountRow: Decodable { var count: Int }
            let before = try #require(try await reads.raw("SELECT COUNT(*) AS count FROM patients").first(decoding: CountRow.self))
            #expect(before.count > 0)
            await #expect(throws: (any Error).self) {
                try await reads.raw("UPDATE patients SET updated_at = updated_at + 1").run()
            }
            await #expect(throws: (any Error).self) {
                try await reads.raw("CREATE TABLE smuggled (x INTEGER)").run()
            }
            let tables = try await world.owner.sql.raw("SELECT COUNT(*) AS count FROM sqlite_master WHERE name = 'smuggled'").first(decoding: CountRow.self)
            #expect(tables?.count == 0)
        }
    }

    /// The hot list's own read-only connections (statements kept prepared) refuse writes too, and a refused
    /// statement leaves them able to read.
    @Test(arguments: [TestBackend.sqlite])
    func preparedReadConnectionsRefuseWrites(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            struct CountRow: Decodable { var count: Int }
            let count: SQLQueryString = "SELECT COUNT(*) AS count FROM patients WHERE tenant_id = \(bind: TestWorld.demo.tenantID)"
            let before = try #require(try await database.preparedRows(count)?.first?.first)
            guard case .integer(let patients) = before else { throw SQLiteStorageFailure("the count was \(before)") }
            #expect(patients > 0)
            await #expect(throws: (any Error).self) {
                _ = try await database.preparedRows("UPDATE patients SET updated_at = updated_at + 1")
            }
            await #expect(throws: (any Error).self) {
                _ = try await database.preparedRows("CREATE TABLE smuggled (x INTEGER)")
            }
            let tables = try await world.owner.sql.raw("SELECT COUNT(*) AS count FROM sqlite_master WHERE name = 'smuggled'").first(decoding: CountRow.self)
            #expect(tables?.count == 0)
            let after = try #require(try await database.preparedRows(count)?.first?.first)
            #expect(after == before)
        }
    }

    /// The hot list's statement is prepared once per connection and run again with new values (the time of each
    /// request), never prepared again inside SQLite (clearing the old values did that on every run).
    @Test(arguments: [TestBackend.sqlite])
    func theHotListIsNotPreparedAgain(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for _ in 0..<6 {
                let list = try await world.call(.get, "/api/v1/appointments?upcoming=true&limit=20", as: .smith)
                #expect(list.status == .ok)
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(world.services.database.preparedReadsReprepares() == 0)
        }
    }

    /// The hot list reads on the caller's thread (an event loop) only while it meets no lock: when another
    /// connection holds the file exclusively, the read does not wait there but on the thread pool, and answers
    /// once the lock is gone. (A file of its own: a connection cannot take a served database exclusively.)
    @Test func aPreparedReadThatMeetsALockWaitsOffTheCallersThread() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-lock-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("held.sqlite").path
        let holder = try await SQLiteConnection.open(storage: .file(path: path))
        for statement in ["PRAGMA journal_mode=WAL", "CREATE TABLE kept (x INTEGER)", "INSERT INTO kept VALUES (1), (2), (3)", "PRAGMA locking_mode=EXCLUSIVE"]
        {
            try await holder.query(statement, [], { _ in })
        }
        try await holder.query("BEGIN IMMEDIATE", [], { _ in })
        try await holder.query("COMMIT", [], { _ in })
        let reads = SQLitePreparedReads(uri: EHRDatabase.readOnlyURI(path))
        defer { reads.shutdown() }
        let released = Task {
            try await Task.sleep(for: .milliseconds(400))
            try await holder.close()
        }
        let started = ContinuousClock.now
        // The dialect only serializes the statement; nothing runs on this database.
        let dialect = ClosedSQLDatabase(logger: Logger(label: "test"), eventLoop: MultiThreadedEventLoopGroup.singleton.any(), dialect: SQLiteDialect())
        let rows = try await reads.rows("SELECT COUNT(*) FROM kept", dialect: dialect)
        let waited = ContinuousClock.now - started
        try await released.value
        #expect(rows == [[.integer(3)]])
        #expect(reads.statementsMovedForLocks() == 1)
        #expect(waited > .milliseconds(300), "the read answered after \(waited), while the file was held")
    }

    /// Each booking answered 201 is in the very next list, while other lists keep the read connections busy.
    @Test(arguments: TestBackend.all)
    func aListSeesEveryAnsweredWrite(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            let d = TestWorld.demo
            let day = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 40 * 86_400
            let formatter = ISO8601DateFormatter()
            for round in 0..<24 {
                let start = Date(timeIntervalSince1970: day + Double(round) * 3600)
                async let busy = withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<6 { group.addTask { try await world.call(.get, "/api/v1/appointments?upcoming=true&limit=20", as: .smith).items.count } }
                    return try await group.reduce(0, +)
                }
                let booked = try await world.call(
                    .post, "/api/v1/appointments", as: .admin,
                    json: [
                        "patientId": d.john.wire, "therapistId": d.smith.wire, "startsAt": formatter.string(from: start),
                        "endsAt": formatter.string(from: start.addingTimeInterval(50 * 60)), "timeZone": "UTC", "kind": "in_person",
                    ])
                #expect(booked.status == .created, "round \(round): \(booked.text)")
                let id = try #require(booked.json["id"] as? String)
                let window = "from=\(formatter.string(from: start.addingTimeInterval(-60)))&to=\(formatter.string(from: start.addingTimeInterval(60)))"
                let listed = try await world.call(.get, "/api/v1/appointments?\(window)", as: .smith)
                let ids = listed.items.compactMap { $0["id"] as? String }
                #expect(ids == [id], "round \(round): the list after the booking showed \(ids)")
                _ = try await busy
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func checkpointsCopyTheLogIntoTheDatabaseFile(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            let result = try await world.services.database.checkpointWAL()
            guard case .sqlite = backend else {
                #expect(result == nil)
                return
            }
            let frames = try #require(result)
            #expect(frames.logFrames > 0, "the audited read left nothing in the log")
            #expect(frames.checkpointedFrames == frames.logFrames, "\(frames)")
        }
    }

    /// A checkpoint while a reader still reads an older snapshot waits for it, copies the whole log and lets the
    /// next commit start the log over (a passive checkpoint stopped at the reader's snapshot, and the log kept
    /// growing); the writer then waits for locks as before.
    @Test(arguments: [TestBackend.sqlite])
    func aCheckpointWaitsForReadersAndTheLogStartsOver(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            let path = try await Self.databasePath(database)
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            let reader = try await Self.readerInTransaction(path)
            _ = try await world.call(.get, "/api/v1/appointments?upcoming=true", as: .smith)
            async let checkpoint = database.checkpointWAL()
            try await Task.sleep(for: .milliseconds(60))
            try await reader.query("COMMIT", [], { _ in })
            try await reader.close()
            let frames = try #require(try await checkpoint)
            #expect(frames.logFrames > 0)
            #expect(frames.checkpointedFrames == frames.logFrames, "\(frames): the checkpoint stopped at the reader's snapshot")
            let restarts = try Self.logRestarts(path)
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            #expect(try Self.logRestarts(path) > restarts, "the commit after the checkpoint did not start the log over")
            #expect(try await Self.busyTimeout(database) == EHRDatabase.writerLockWait)
        }
    }

    /// A reader that stays on the old log holds the checkpoint for its short wait only, never the writer for long:
    /// the checkpoint copies what it can and the next pass does the rest.
    @Test(arguments: [TestBackend.sqlite])
    func aReaderThatStaysOnTheOldLogHoldsTheCheckpointBriefly(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            let path = try await Self.databasePath(database)
            // The server's own checkpoint pass may copy the log just before the reader begins (the reader then reads
            // the database file alone and holds nothing up): up to three tries for a reader on the log.
            var heldUp = false
            for _ in 0..<3 where !heldUp {
                _ = try await world.call(.get, "/api/v1/patients", as: .smith)
                let reader = try await Self.readerInTransaction(path)
                _ = try await world.call(.get, "/api/v1/appointments?upcoming=true", as: .smith)
                let started = ContinuousClock.now
                let frames = try #require(try await database.checkpointWAL())
                let waited = ContinuousClock.now - started
                #expect(waited < .seconds(2), "the checkpoint waited \(waited)")
                heldUp = frames.checkpointedFrames < frames.logFrames
                if heldUp {
                    let read = try await world.call(.get, "/api/v1/patients", as: .smith)
                    #expect(read.status == .ok)
                }
                try await reader.query("COMMIT", [], { _ in })
                try await reader.close()
            }
            #expect(heldUp, "no checkpoint found a reader on the log")
            // What the server does next (SQLiteCheckpointPolicy): a pass that does not wait for readers.
            let reader = try await Self.readerInTransaction(path)
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            let started = ContinuousClock.now
            let passive = try #require(try await database.checkpointWAL(restart: false))
            #expect(ContinuousClock.now - started < .milliseconds(150), "a pass that does not wait waited")
            #expect(passive.checkpointedFrames <= passive.logFrames)
            try await reader.query("COMMIT", [], { _ in })
            try await reader.close()
            #expect(try await Self.busyTimeout(database) == EHRDatabase.writerLockWait)
            let after = try #require(try await database.checkpointWAL())
            #expect(after.checkpointedFrames == after.logFrames, "\(after)")
        }
    }

    /// The bulk of a checkpoint's copy runs on a connection of its own, beside the writer: a pass that does not wait
    /// for readers does not wait for the writer either, and the writer commits while a checkpoint copies.
    @Test(arguments: [TestBackend.sqlite])
    func theCheckpointCopiesBesideTheWriter(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            _ = try await world.call(.get, "/api/v1/appointments?upcoming=true", as: .smith)
            // The writer's one connection, held in a transaction for 600 ms.
            async let held: Void = DatabaseScope.system(.auditWriter) {
                try await database.transaction { _ in try await Task.sleep(for: .milliseconds(600)) }
            }
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            let passive = try #require(try await database.checkpointWAL(restart: false))
            let waited = ContinuousClock.now - started
            try await held
            #expect(waited < .milliseconds(300), "the passive step waited \(waited) for the writer")
            #expect(passive.checkpointedFrames == passive.logFrames, "\(passive)")
            // A whole pass still lets the next commit start the log over.
            let path = try await Self.databasePath(database)
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            let frames = try #require(try await database.checkpointWAL())
            #expect(frames.checkpointedFrames == frames.logFrames, "\(frames)")
            let restarts = try Self.logRestarts(path)
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            #expect(try Self.logRestarts(path) > restarts, "the commit after the checkpoint did not start the log over")
        }
    }

    private static func databasePath(_ database: EHRDatabase) async throws -> String {
        struct Row: Decodable { var file: String }
        return try #require(try await database.sql.raw("SELECT file FROM pragma_database_list WHERE name = 'main'").first(decoding: Row.self)).file
    }

    /// A connection of its own holding a read transaction on the database's current snapshot.
    private static func readerInTransaction(_ path: String) async throws -> SQLiteConnection {
        let reader = try await SQLiteConnection.open(storage: .file(path: path))
        try await reader.query("BEGIN", [], { _ in })
        try await reader.query("SELECT COUNT(*) FROM audit_events", [], { _ in })
        return reader
    }

    /// The write-ahead log's checkpoint sequence number (its header's fourth word): it grows by one each time a
    /// commit starts the log over.
    private static func logRestarts(_ path: String) throws -> UInt32 {
        let header = try #require(FileManager.default.contents(atPath: path + "-wal")?.prefix(16))
        #expect(header.count == 16)
        return header.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func busyTimeout(_ database: EHRDatabase) async throws -> Int {
        struct Row: Decodable { var timeout: Int }
        return try #require(try await database.sql.raw("PRAGMA busy_timeout").first(decoding: Row.self)).timeout
    }
}

private struct SQLiteStorageFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
