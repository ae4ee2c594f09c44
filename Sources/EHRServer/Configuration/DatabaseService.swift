import EHRPersistence
import ServiceLifecycle

/// Keeps the database pools open while the server runs and closes them on graceful shutdown.
struct DatabaseService: Service {
    let database: EHRDatabase

    func run() async throws {
        try? await gracefulShutdown()
        // When the service group is cancelled rather than shut down gracefully (a failing test, a second signal),
        // this task is cancelled too; the pools must still close, so close them from a task that is not.
        let database = self.database
        await Task { await database.shutdown() }.value
    }
}
