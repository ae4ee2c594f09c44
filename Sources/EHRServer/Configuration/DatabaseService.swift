import EHRPersistence
import ServiceLifecycle

/// Keeps the database pools open while the server runs and closes them on graceful shutdown.
struct DatabaseService: Service {
    let database: EHRDatabase

    func run() async throws {
        try? await gracefulShutdown()
        await database.shutdown()
    }
}
