import EHRPersistence
import Foundation
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
}
