import EHRPersistence
import Logging
import ServiceLifecycle

/// Keeps SQLite's write-ahead log short while the server runs: every `interval` a checkpoint that copies it into
/// the database file and lets the next commit start it over (see ``EHRDatabase/checkpointWAL()``). Nothing to do
/// on PostgreSQL.
struct SQLiteCheckpointService: Service {
    let database: EHRDatabase
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        // A service that returns ends the whole group: on PostgreSQL, just wait for the shutdown.
        guard database.dialect == .sqlite else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                do {
                    try await database.checkpointWAL()
                } catch {
                    // The log keeps growing until the next pass, or the writer's own far-out checkpoint.
                    logger.warning("SQLite checkpoint failed; retrying", metadata: ["error.type": "\(type(of: error))"])
                }
            }
        }
    }
}
