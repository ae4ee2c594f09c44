import Foundation
import GRDB

/// The on-device database of one signed-in user in one practice (GRDB, SQLite in WAL mode): the last
/// synced upcoming appointments, local chat messages and scheduled reminders. The file is readable by
/// the user only (mode 0600; complete file protection on iOS) and is deleted on sign-out.
public final class LocalStore: Sendable {
    public let url: URL
    let queue: DatabaseQueue

    /// Opens (creating when needed) the store at `url`.
    public init(url: URL) throws {
        self.url = url
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: url.path) {
            var attributes: [FileAttributeKey: Any] = [.posixPermissions: 0o600]
            #if os(iOS)
                attributes[.protectionKey] = FileProtectionType.complete
            #endif
            FileManager.default.createFile(atPath: url.path, contents: nil, attributes: attributes)
        }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        queue = try DatabaseQueue(path: url.path, configuration: configuration)
        try Self.migrator.migrate(queue)
    }

    /// Closes the store and deletes its files.
    public static func destroy(at url: URL) {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: url.path + suffix)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "appointment") { t in
                t.primaryKey("id", .text)
                t.column("startsAt", .datetime).notNull()
                t.column("endsAt", .datetime).notNull()
                t.column("timeZone", .text).notNull()
                t.column("status", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("therapistId", .text).notNull()
                t.column("patientId", .text).notNull()
                t.column("reason", .text)
            }
            try db.create(table: "syncState") { t in
                t.primaryKey("name", .text)
                t.column("syncedAt", .datetime).notNull()
            }
            try db.create(table: "chatChannel") { t in
                t.primaryKey("id", .text)
                t.column("title", .text).notNull()
                t.column("therapistID", .text).notNull()
            }
            try db.create(table: "chatMessage") { t in
                t.primaryKey("id", .text)
                t.column("channelId", .text).notNull()
                t.column("senderId", .text).notNull()
                t.column("text", .text).notNull()
                t.column("sentAt", .datetime).notNull()
                t.column("delivery", .text).notNull()
            }
            try db.create(table: "reminder") { t in
                t.primaryKey("id", .text)
                t.column("appointmentId", .text).notNull()
                t.column("fireAt", .datetime).notNull()
                t.column("title", .text).notNull()
                t.column("body", .text).notNull()
                t.column("read", .boolean).notNull().defaults(to: false)
            }
        }
        return migrator
    }
}
