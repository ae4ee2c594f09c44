import FluentKit
import Foundation
import Metrics
import NIOConcurrencyHelpers
import PostgresNIO

/// A limit on how long one PostgreSQL checkout may take. When the server dies under a query (a crash, a
/// failover), PostgresNIO can leave that query waiting forever on a connection that no longer exists: the
/// request never answers, its pool slot is never returned, and a graceful shutdown waits for it. Past the
/// deadline the work is abandoned with ``StorageError/unavailable``, the connection is closed so the pool
/// replaces it, and the checkout returns its slot. A write abandoned this way was never acknowledged, and its
/// transaction either committed whole or not at all.
enum ConnectionDeadline {
    /// Runs `work` on `connection`, giving up after `seconds`.
    ///
    /// The deadline is a task scheduled on the connection's event loop, not a sleeping Swift task: a sleeping
    /// task is a timer on Dispatch's manager thread plus a task to create and cancel, for every checkout
    /// (about 4% of the server's CPU on the list; `bench/profile`). It is armed before the work starts, so work
    /// that finishes at once always disarms it; if it fires anyway, it closes the connection only when it was
    /// the one to end the wait.
    static func run<T: Sendable>(
        _ seconds: TimeInterval, on connection: any Database, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        let worker = NIOLockedValueBox<Task<Void, Never>?>(nil)
        /// Resumes the caller once; true for the call that did.
        @Sendable func finish(_ result: Result<T, any Error>) -> Bool {
            guard
                let continuation = outcome.withLockedValue({ value -> CheckedContinuation<T, any Error>? in
                    defer { value = nil }
                    return value
                })
            else { return false }
            continuation.resume(with: result)
            return true
        }
        return try await withCheckedThrowingContinuation { continuation in
            outcome.withLockedValue { $0 = continuation }
            let timer = connection.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1_000_000_000))) {
                guard finish(.failure(StorageError.unavailable)) else { return }
                Counter(label: "ehr_db_checkout_deadline_exceeded_total").increment()
                worker.withLockedValue { $0?.cancel() }
                close(connection)
            }
            // The work prefers the caller's loop: a task of its own would otherwise run where it was scheduled and
            // go on wherever its statements' answers arrived, and the caller's thread wake up for every hand-back
            // (server CPU a list request 731/685 -> 558/601 us in alternating bench/profile runs).
            worker.withLockedValue { task in
                task = Task(executorPreference: EventLoopTaskExecutor.current) {
                    let result: Result<T, any Error>
                    do { result = .success(try await work()) } catch { result = .failure(error) }
                    timer.cancel()
                    _ = finish(result)
                }
            }
        }
    }

    /// Closes the PostgreSQL connection under a checkout; the pool discards a closed connection when it is returned.
    private static func close(_ connection: any Database) {
        guard let postgres = connection as? any PostgresDatabase else { return }
        _ = postgres.withConnection { $0.close() }
    }
}
