import EHRPersistence
import Foundation
import Logging
import NIOPosix
import Testing

@testable import EHRPersistence

/// ``PooledCheckout`` hands pooled connections to the calling task; a checkout that fails (no database) must
/// throw to its caller, not leave the pool's promise pending (NIO traps on that in debug builds: `scripts/crash-test`
/// found it as an `ehr serve` killed by the first failed checkout after PostgreSQL died).
@Suite("Pooled checkout")
struct PooledCheckoutTests {
    @Test func aFailedCheckoutThrowsAndLeavesNothingPending() async throws {
        // A port nothing listens on: every connection attempt is refused at once.
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = socket.localAddress!.port!
        try await socket.close()
        let database = try EHRDatabase(
            .postgres(url: "postgres://nobody:nothing@127.0.0.1:\(port)/none?sslmode=disable", poolSize: 1), logger: Logger(label: "ehr.test.down"),
            rowLevelSecurity: false)
        for _ in 0..<3 {
            await #expect(throws: (any Error).self) {
                _ = try await database.withScopedConnection { connection, _ in connection.id }
            }
        }
        await database.shutdown()
    }
}
