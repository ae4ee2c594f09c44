import EHRPersistence
import Logging
import ServiceLifecycle

/// Seals PostgreSQL's audit inbox onto the practices' chains while the server runs (see `PostgresAuditInbox`):
/// at start (events a crash or another process left there), soon after this process records events, at
/// least every `idleInterval` (other instances' events, and a pass that failed), and once more at graceful
/// shutdown, after the HTTP server has stopped and before the pools close. Readers of the chain seal first
/// themselves, so this only keeps the inbox short. SQLite seals as it appends and needs no sealer.
struct AuditSealerService: Service {
    let log: AuditLog
    let database: EHRDatabase
    let logger: Logger
    var interval: Duration = .milliseconds(50)
    var idleInterval: Duration = .seconds(2)

    func run() async throws {
        // A service that returns ends the whole group: without an inbox, just wait for the shutdown.
        guard database.dialect == .postgres else {
            try? await gracefulShutdown()
            return
        }
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
        await pass()
    }

    private func pass() async {
        do {
            try await log.sealPending(in: database)
        } catch is CancellationError {
        } catch {
            // The events stay in the inbox, durable; the next pass (or the next reader) seals them.
            logger.error("audit sealer pass failed; retrying", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}
