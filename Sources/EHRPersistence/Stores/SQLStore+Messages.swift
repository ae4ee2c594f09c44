import EHRDomain
import Foundation
import SQLKit

struct ThreadRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var patientId: UUID
    var createdAt: Date
    var lastMessageAt: Date?

    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case patientId = "patient_id"
        case createdAt = "created_at"
        case lastMessageAt = "last_message_at"
    }

    var thread: MessageThread {
        MessageThread(id: id, tenantID: tenantId, patientID: patientId, createdAt: createdAt, lastMessageAt: lastMessageAt)
    }
}

/// What a thread of a caller's list adds to its row: the patient's participants and the caller's unread count.
struct ThreadListingColumns: Decodable, Sendable {
    var patientUserId: UUID?
    var assignedTherapistId: UUID
    var unreadCount: Int

    enum CodingKeys: String, CodingKey {
        case patientUserId = "patient_user_id"
        case assignedTherapistId = "assigned_therapist_id"
        case unreadCount = "unread_count"
    }
}

struct MessageRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var threadId: UUID
    var senderId: UUID
    var body: String
    var sentAt: Date

    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case threadId = "thread_id"
        case senderId = "sender_id"
        case body
        case sentAt = "sent_at"
    }

    func message(_ keys: TenantKeys) throws -> Message {
        Message(
            id: id, tenantID: tenantId, threadID: threadId, senderID: senderId, body: try keys.open(body, "messages", "body", row: id),
            sentAt: sentAt)
    }
}

private struct ReadMarkerRow: Decodable, Sendable {
    var userId: UUID
    var readAt: Date

    enum CodingKeys: String, CodingKey {
        case userId = "user_id"
        case readAt = "read_at"
    }
}

extension SQLStore: MessageRepository {
    public func thread(forPatient patientID: UUID, tenantID: UUID, at: Date, newID: UUID = UUID()) async throws -> MessageThread {
        let now = millisecondPrecision(at)
        // ON CONFLICT DO NOTHING: an existing thread is kept; of two first opens racing, one creates the thread and
        // both then read it.
        return try await write { db in
            try await db.raw(
                """
                INSERT INTO message_threads (id, tenant_id, patient_id, created_at, last_message_at, activity_at)
                VALUES (\(bind: newID), \(bind: tenantID), \(bind: patientID), \(bind: now), NULL, \(bind: now))
                ON CONFLICT (tenant_id, patient_id) DO NOTHING
                """
            ).run()
            guard let thread = try await self.thread(patientID: patientID, tenantID: tenantID, on: db) else {
                throw StorageError.corrupt("message_threads")
            }
            return thread
        }
    }

    private func thread(patientID: UUID, tenantID: UUID, on db: any SQLDatabase) async throws -> MessageThread? {
        try await db.raw("SELECT * FROM message_threads WHERE tenant_id = \(bind: tenantID) AND patient_id = \(bind: patientID)")
            .first(decoding: ThreadRow.self, with: Self.decoder)?.thread
    }

    public func findThread(id: UUID, tenantID: UUID) async throws -> MessageThread? {
        try await sql.raw("SELECT * FROM message_threads WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)")
            .first(decoding: ThreadRow.self, with: Self.decoder)?.thread
    }

    public func findThread(patientID: UUID, tenantID: UUID) async throws -> MessageThread? {
        try await thread(patientID: patientID, tenantID: tenantID, on: sql)
    }

    public func listThreads(scope: ThreadScope, readerID: UUID, page: PageRequest) async throws -> Page<ThreadSummary> {
        let tenantID = scope.tenantID
        var query: SQLQueryString =
            "SELECT t.id, t.tenant_id, t.patient_id, t.created_at, t.last_message_at, p.user_id AS patient_user_id, p.assigned_therapist_id, ("
        query += Self.unreadCount(tenant: "t.tenant_id", thread: "t.id", reader: readerID)
        query += """
            ) AS unread_count
            FROM message_threads t JOIN patients p ON p.tenant_id = t.tenant_id AND p.id = t.patient_id
            WHERE t.tenant_id = \(bind: tenantID)
            """
        switch scope {
        case .assignedTo(_, let therapistID): query += " AND p.assigned_therapist_id = \(bind: therapistID)"
        case .portalUser(_, let userID): query += " AND p.user_id = \(bind: userID)"
        }
        if let cursor = page.after {
            query += " AND (t.activity_at < \(bind: cursor.key) OR (t.activity_at = \(bind: cursor.key) AND t.id < \(bind: cursor.id)))"
        }
        query += " ORDER BY t.activity_at DESC, t.id DESC LIMIT \(literal: page.limit + 1)"
        let rows = try await sql.raw(query).all()
        let items = try rows.prefix(page.limit).map { row in
            let thread = try row.decode(model: ThreadRow.self, with: Self.decoder).thread
            let listing = try row.decode(model: ThreadListingColumns.self, with: Self.decoder)
            return ThreadSummary(
                thread: thread, participants: [listing.patientUserId, listing.assignedTherapistId].compactMap { $0 },
                unreadCount: listing.unreadCount)
        }
        let next = rows.count > page.limit ? items.last.map { PageCursor(key: $0.thread.activityAt, id: $0.thread.id) } : nil
        return Page(items: Array(items), next: next)
    }

    public func messages(threadID: UUID, tenantID: UUID, page: PageRequest) async throws -> Page<ReadableMessage> {
        let markers = try await sql.raw(
            "SELECT user_id, read_at FROM message_reads WHERE tenant_id = \(bind: tenantID) AND thread_id = \(bind: threadID)"
        ).all(decoding: ReadMarkerRow.self, with: Self.decoder)
        let query: SQLQueryString =
            "SELECT id, tenant_id, thread_id, sender_id, body, sent_at FROM messages WHERE tenant_id = \(bind: tenantID) AND thread_id = \(bind: threadID)"
            + after(page.after, column: "sent_at", descending: true) + " ORDER BY sent_at DESC, id DESC"
        return try await self.page(query, limit: page.limit, tenantID: tenantID) { (row: MessageRow, keys) in
            let message = try row.message(keys)
            let readAt = markers.filter { $0.userId != message.senderID && $0.readAt >= message.sentAt }.map(\.readAt).max()
            return ReadableMessage(message: message, readAt: readAt)
        } key: {
            ($0.message.sentAt, $0.message.id)
        }
    }

    public func findMessage(id: UUID, tenantID: UUID) async throws -> Message? {
        guard
            let row = try await sql.raw(
                "SELECT id, tenant_id, thread_id, sender_id, body, sent_at FROM messages WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)"
            ).first(decoding: MessageRow.self, with: Self.decoder)
        else { return nil }
        return try await opening(tenantID) { keys in try row.message(keys) }
    }

    public func send(_ message: Message, notifying recipients: [UUID] = []) async throws {
        let notifications = recipients.filter { $0 != message.senderID }.flatMap { user in
            NotificationChannel.allCases.map { channel in
                OutboxNotification(
                    tenantID: message.tenantID, userID: user, channel: channel, kind: .newMessage, subjectID: message.threadID,
                    idempotencyKey: ReminderRules.messageKey(messageID: message.id, userID: user, channel: channel), dueAt: message.sentAt)
            }
        }
        let keys = try await vault.keys(for: message.tenantID)
        let body = try keys.seal(message.body, "messages", "body", row: message.id)
        let sentAt = millisecondPrecision(message.sentAt)
        let dialect = database.dialect
        try await write { db in
            try await db.raw(
                """
                INSERT INTO messages (id, tenant_id, thread_id, sender_id, body, sent_at, key_version)
                VALUES (\(bind: message.id), \(bind: message.tenantID), \(bind: message.threadID), \(bind: message.senderID), \(bind: body),
                    \(bind: sentAt), \(bind: keys.currentVersion))
                """
            ).run()
            try await db.raw(
                """
                UPDATE message_threads SET last_message_at = \(bind: sentAt), activity_at = \(bind: sentAt)
                WHERE tenant_id = \(bind: message.tenantID) AND id = \(bind: message.threadID)
                    AND (last_message_at IS NULL OR last_message_at < \(bind: sentAt))
                """
            ).run()
            try await Self.upsertReadMarker(
                threadID: message.threadID, userID: message.senderID, tenantID: message.tenantID, at: sentAt, dialect: dialect, on: db)
            // Queued with the message: it is notified exactly when it exists.
            try await self.insert(notifications, now: sentAt, on: db)
        }
    }

    public func markRead(threadID: UUID, userID: UUID, tenantID: UUID, at: Date) async throws -> Date {
        let at = millisecondPrecision(at)
        let dialect = database.dialect
        return try await write { db in
            try await Self.upsertReadMarker(threadID: threadID, userID: userID, tenantID: tenantID, at: at, dialect: dialect, on: db)
            let marker = try await db.raw(
                """
                SELECT user_id, read_at FROM message_reads
                WHERE tenant_id = \(bind: tenantID) AND thread_id = \(bind: threadID) AND user_id = \(bind: userID)
                """
            ).first(decoding: ReadMarkerRow.self, with: Self.decoder)
            return marker?.readAt ?? at
        }
    }

    public func unreadCount(threadID: UUID, userID: UUID, tenantID: UUID) async throws -> Int {
        struct CountRow: Decodable { var n: Int }
        let count = Self.unreadCount(tenant: "\(bind: tenantID)", thread: "\(bind: threadID)", reader: userID)
        let row = try await sql.raw("SELECT (" + count + ") AS n").first(decoding: CountRow.self)
        return row?.n ?? 0
    }

    /// Messages of others in a thread that `reader` has not read: one subquery for the thread list and the single count.
    private static func unreadCount(tenant: SQLQueryString, thread: SQLQueryString, reader: UUID) -> SQLQueryString {
        "SELECT COUNT(*) FROM messages m LEFT JOIN message_reads r ON r.tenant_id = m.tenant_id AND r.thread_id = m.thread_id AND r.user_id = "
            + "\(bind: reader) WHERE m.tenant_id = " + tenant + " AND m.thread_id = " + thread + " AND m.sender_id <> \(bind: reader)"
            + " AND (r.read_at IS NULL OR m.sent_at > r.read_at)"
    }

    /// A read marker only moves forward, whichever of two racing marks commits last.
    private static func upsertReadMarker(
        threadID: UUID, userID: UUID, tenantID: UUID, at: Date, dialect: SQLDialectKind, on db: any SQLDatabase
    ) async throws {
        let newer = dialect == .postgres ? "GREATEST(message_reads.read_at, EXCLUDED.read_at)" : "MAX(message_reads.read_at, excluded.read_at)"
        try await db.raw(
            """
            INSERT INTO message_reads (tenant_id, thread_id, user_id, read_at)
            VALUES (\(bind: tenantID), \(bind: threadID), \(bind: userID), \(bind: at))
            ON CONFLICT (tenant_id, thread_id, user_id) DO UPDATE SET read_at = \(unsafeRaw: newer)
            """
        ).run()
    }
}
