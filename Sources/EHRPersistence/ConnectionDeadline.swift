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
    static func run<T: Sendable>(
        _ seconds: TimeInterval, on connection: any Database, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let outcome = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        let worker = NIOLockedValueBox<Task<Void, Never>?>(nil)
        let timer = NIOLockedValueBox<Task<Void, Never>?>(nil)
        @Sendable func finish(_ result: Result<T, any Error>) {
            guard
                let continuation = outcome.withLockedValue({ value -> CheckedContinuation<T, any Error>? in
                    defer { value = nil }
                    return value
                })
            else { return }
            continuation.resume(with: result)
        }
        return try await withCheckedThrowingContinuation { continuation in
            outcome.withLockedValue { $0 = continuation }
            worker.withLockedValue { task in
                task = Task {
                    do { finish(.success(try await work())) } catch { finish(.failure(error)) }
                    timer.withLockedValue { $0?.cancel() }
                }
            }
            timer.withLockedValue { task in
                task = Task {
                    guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
                    Counter(label: "ehr_db_checkout_deadline_exceeded_total").increment()
                    finish(.failure(StorageError.unavailable))
                    worker.withLockedValue { $0?.cancel() }
                    close(connection)
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
