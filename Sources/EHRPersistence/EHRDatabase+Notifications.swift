import FluentPostgresDriver
import Foundation
import Logging
import PostgresNIO
import SQLKit

extension EHRDatabase {
    /// Sends `payload` to every listener of `channel` on this PostgreSQL database (every instance of the service),
    /// when the surrounding transaction, if any, commits. Only identifiers belong in a payload: PostgreSQL keeps
    /// pending notifications in its own queue files. Nothing on SQLite (one process, no listeners).
    public func notify(channel: String, payload: String) async throws {
        guard dialect == .postgres else { return }
        try await DatabaseScope.system(.liveEvents) {
            try await sql.raw("SELECT pg_notify(\(bind: channel), \(bind: payload))").run()
        }
    }

    /// Sends `payloads` on `channel` in one transaction: listeners get them together and in this order (a frame
    /// too long for one notification goes in parts). PostgreSQL only; nothing on SQLite.
    public func notify(channel: String, payloads: [String]) async throws {
        guard dialect == .postgres, !payloads.isEmpty else { return }
        guard payloads.count > 1 else { return try await notify(channel: channel, payload: payloads[0]) }
        try await DatabaseScope.system(.liveEvents) {
            try await transaction { db in
                for payload in payloads { try await db.raw("SELECT pg_notify(\(bind: channel), \(bind: payload))").run() }
            }
        }
    }

    /// Opens a connection of its own (not from the pools: it stays open for as long as `consume` runs), listens on
    /// `channel` and hands every notification's payload to `consume`. Returns when `consume` returns; throws when
    /// the connection fails (the caller reconnects). PostgreSQL only; nil on SQLite.
    public func listen(
        channel: String, logger: Logger, listening: @Sendable () async -> Void = {}, consume: @escaping @Sendable (String) async -> Void
    ) async throws {
        guard case .postgres(let url, _) = configuration else { return }
        let core = try SQLPostgresConfiguration(url: url).coreConfiguration
        let connection = try await PostgresConnection.connect(on: eventLoopGroup.any(), configuration: core, id: 0, logger: logger)
        do {
            // Cancelling (the service stopping) closes the connection, which ends the wait for notifications: the
            // notification sequence does not end on cancellation by itself, and a stop could otherwise hang here.
            try await withTaskCancellationHandler {
                try Task.checkCancellation()
                try await connection.listen(on: channel) { notifications in
                    await listening()
                    for try await notification in notifications {
                        await consume(notification.payload)
                    }
                }
            } onCancel: {
                let _: EventLoopFuture<Void> = connection.close()
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }
}
