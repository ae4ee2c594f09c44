import EHRPersistence
import Logging
import ServiceLifecycle

/// Seals PostgreSQL's audit inbox onto the practices' chains while the server runs (see `PostgresAuditInbox`):
/// at start (events a crash or another process left there), soon after this process records events, at
/// least every `idleInterval` (other instances' events, and a pass that failed), and once more at graceful
/// shutdown, after the HTTP server has stopped and before the pools close. Readers of the chain seal first
/// themselves, so this only keeps the inbox short. SQLite seals as it appends; there the passes write the
/// access log's index of listed patients behind the chain (see `SQLiteDeferredAccessIndex`).
struct AuditSealerService: Service {
    let log: AuditLog
    let database: EHRDatabase
    let logger: Logger
    var interval: Duration = .milliseconds(50)
    var idleInterval: Duration = .seconds(2)

    func run() async throws {
        // SQLite has no inbox; the same passes index the listed patients of the events chained since the last one,
        // in batches a second apart (the access log's readers index the rest themselves first).
        let interval = database.dialect == .sqlite ? max(interval, .seconds(1)) : interval
        await pass()
        await cancelWhenGracefulShutdown {
            var idle: Duration = .zero
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                idle += interval
                if log.enqueuedSinceSeal > 0 || idle >= idleInterval {
                    idle = .zero
                    await pass()
                }
            }
        }
        // PostgreSQL: the inbox is emptied before the pools close. SQLite's index is written by any later pass or
        // reader, and at shutdown its pools may already be closing.
        if database.dialect == .postgres { await pass() }
    }

    private func pass() async {
        do {
            try await log.sealPending(in: database)
        } catch is CancellationError {
        } catch {
            // The events stay in the inbox (SQLite: unindexed), durable; the next pass (or the next reader) does it.
            logger.error("audit sealer pass failed; retrying", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}
