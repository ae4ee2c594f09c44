import EHRPersistence
import Foundation
import Logging
import NIOPosix
import PostgresKit
import PostgresNIO
import SQLKit
import Testing

/// A failed handler's log line carries PostgreSQL's SQLSTATE (so a rare 500 says what it was), and never the
/// server's message, which can quote a row's values.
@Suite("Database error codes in logs")
struct DatabaseErrorCodeTests {
    @Test(arguments: TestBackend.all.filter { $0 != .sqlite })
    func sqlStateOnlyFromPostgresErrors(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            var caught: (any Error)?
            do {
                try await world.owner.sql.raw("SELECT 1 / 0 AS x").run()
            } catch {
                caught = error
            }
            let error = try #require(caught)
            #expect(databaseErrorCode(error) == "22012")
            #expect(databaseErrorCode(CancellationError()) == nil)
        }
    }

    /// A lost or refused database connection is "try again" (503), never taken for a bug (500): during a
    /// PostgreSQL restart `scripts/crash-test` saw about one request in 170 answered 500.
    @Test(arguments: TestBackend.all.filter { $0 != .sqlite })
    func aLostOrRefusedConnectionIsUnavailableAndABadQueryIsNot(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            var caught: (any Error)?
            do { try await world.owner.sql.raw("SELECT 1 / 0 AS x").run() } catch { caught = error }
            #expect(!isDatabaseUnavailable(try #require(caught)), "a division by zero is not an outage")

            guard case .postgres(let url, _) = world.services.configuration.database else { return }
            let configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
            let logger = Logger(label: "ehr.test.outage")
            // Refused: nothing listens on the port.
            let refusedConfiguration = PostgresConnection.Configuration(
                host: "127.0.0.1", port: 1, username: "nobody", password: nil, database: nil, tls: .disable)
            do {
                _ = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: refusedConfiguration, id: 2, logger: logger)
                Issue.record("connected to port 1")
            } catch {
                #expect(isDatabaseUnavailable(error), "refused: \(String(reflecting: error))")
            }
            // Lost: the server ends the connection (as a crash or a restart does).
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger)
            var pid: Int32 = 0
            for try await value in try await connection.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { pid = value }
            struct Terminated: Decodable { var done: Bool }
            let terminated = try await world.owner.sql.raw("SELECT pg_terminate_backend(\(bind: pid)) AS done").first(decoding: Terminated.self)
            #expect(terminated?.done == true)
            do {
                _ = try await connection.query("SELECT 1", logger: logger).collect()
                Issue.record("a terminated connection answered")
            } catch {
                #expect(isDatabaseUnavailable(error), "lost: \(String(reflecting: error))")
            }
            try? await connection.close()
        }
    }
}
