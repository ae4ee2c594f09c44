import FluentKit
import NIOConcurrencyHelpers
import NIOCore

/// FluentKit's async `withConnection` without the task it makes for every checkout (`makeFutureWithTask`, a task
/// created and two switches, on the busiest read's every statement): the pool's future-based checkout hands the
/// connection to the calling task, and takes it back when `body` has ended, whether it returned or threw.
enum PooledCheckout {
    static func with<T: Sendable>(_ database: any Database, _ body: (any Database) async throws -> T) async throws -> T {
        let released = database.eventLoop.makePromise(of: Void.self)
        let handedOut = NIOLockedValueBox(false)
        let checkout: any Database = try await withCheckedThrowingContinuation { continuation in
            database.withConnection { connection -> EventLoopFuture<Void> in
                handedOut.withLockedValue { $0 = true }
                continuation.resume(returning: connection)
                return released.futureResult
            }.whenFailure { error in
                // Only a checkout that never reached the closure fails before `released`, which only succeeds.
                // Its promise is then nobody's to complete: completed here (NIO traps on a promise left pending).
                if !handedOut.withLockedValue({ $0 }) {
                    released.succeed(())
                    continuation.resume(throwing: error)
                }
            }
        }
        defer { released.succeed(()) }
        return try await body(checkout)
    }
}
