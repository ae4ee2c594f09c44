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
    /// How often the inbox is searched for rows naming no practice (never chained; see `PostgresUnlockedTenantKeys`).
    var strandedReportInterval: Duration = .seconds(60)

    func run() async throws {
        // SQLite has no inbox; the same passes index the listed patients of the events chained since the last one,
        // in batches a second apart (the access log's readers index the rest themselves first).
        let interval = database.dialect == .sqlite ? max(interval, .seconds(1)) : interval
        await pass()
        await reportStranded()
        await cancelWhenGracefulShutdown {
            var idle: Duration = .zero
            var sinceReport: Duration = .zero
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                idle += interval
                sinceReport += interval
                if log.enqueuedSinceSeal > 0 || idle >= idleInterval {
                    idle = .zero
                    await pass()
                }
                if sinceReport >= strandedReportInterval {
                    sinceReport = .zero
                    await reportStranded()
                }
            }
        }
        // PostgreSQL: the inbox is emptied before the pools close. SQLite's index is written by any later pass or
        // reader, and at shutdown its pools may already be closing.
        if database.dialect == .postgres { await pass() }
    }

    /// Logs inbox rows that name no practice: the sealer leaves them, so only someone writing to the database by
    /// hand made them, and an operator should know.
    private func reportStranded() async {
        guard let stranded = try? await log.strandedInboxRows(in: database), stranded > 0 else { return }
        logger.error("audit inbox rows name no practice; left unchained", metadata: ["audit.inbox.stranded": "\(stranded)"])
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
