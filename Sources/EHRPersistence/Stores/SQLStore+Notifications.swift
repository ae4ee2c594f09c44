import EHRDomain
import Foundation
import SQLKit

struct OutboxRow: Decodable, Sendable {
    var id: UUID
    var tenantId: UUID
    var userId: UUID
    var channel: String
    var kind: String
    var subjectId: UUID
    var idempotencyKey: String
    var dueAt: Date
    var attempts: Int

    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case userId = "user_id"
        case channel, kind
        case subjectId = "subject_id"
        case idempotencyKey = "idempotency_key"
        case dueAt = "due_at"
        case attempts
    }

    func notification() throws -> OutboxNotification {
        guard let channel = NotificationChannel(rawValue: channel) else { throw StorageError.corrupt("notification_outbox.channel") }
        guard let kind = NotificationKind(rawValue: kind) else { throw StorageError.corrupt("notification_outbox.kind") }
        return OutboxNotification(
            id: id, tenantID: tenantId, userID: userId, channel: channel, kind: kind, subjectID: subjectId, idempotencyKey: idempotencyKey,
            dueAt: dueAt, attempts: attempts)
    }
}

/// How a claimed notification ended.
public enum NotificationOutcome: Sendable {
    case sent
    /// Not sent, on purpose (the channel is switched off, no address): not tried again.
    case skipped(String)
    /// Failed this time: tried again at `retryAt`, or given up after ``ReminderRules/maximumAttempts``.
    case failed(String, retryAt: Date)
}

extension SQLStore {
    /// Queues the reminders of every appointment of every practice starting within the coming `horizon`, and
    /// withdraws pending reminders whose appointment was cancelled, finished or moved (a moved appointment's new
    /// reminders have new keys). Idempotent, and safe for several instances at once: a reminder is one row per
    /// idempotency key. Run in the `.notifications` system scope.
    /// - Returns: reminders queued and withdrawn.
    @discardableResult
    public func reconcileReminders(now: Date, horizon: TimeInterval = 25 * 3600) async throws -> (queued: Int, withdrawn: Int) {
        struct Upcoming: Decodable {
            var id: UUID
            var tenant_id: UUID
            var starts_at: Date
            var user_id: UUID
        }
        struct KeyRow: Decodable { var idempotency_key: String }
        struct IDRow: Decodable { var id: UUID }
        let now = millisecondPrecision(now)
        let withdrawn = try await sql.raw(
            """
            UPDATE notification_outbox SET status = 'withdrawn', claim_id = NULL, locked_until = NULL
            WHERE status = 'pending' AND kind <> 'new_message' AND NOT EXISTS (
                SELECT 1 FROM appointments a WHERE a.tenant_id = notification_outbox.tenant_id AND a.id = notification_outbox.subject_id
                    AND a.status IN ('scheduled', 'confirmed') AND a.starts_at = notification_outbox.subject_at)
            RETURNING id
            """
        ).all(decoding: IDRow.self).count
        let upcoming = try await sql.raw(
            """
            SELECT a.id, a.tenant_id, a.starts_at, p.user_id FROM appointments a
                JOIN patients p ON p.tenant_id = a.tenant_id AND p.id = a.patient_id
            WHERE a.starts_at > \(bind: now) AND a.starts_at <= \(bind: now.addingTimeInterval(horizon))
                AND a.status IN ('scheduled', 'confirmed') AND p.user_id IS NOT NULL
            """
        ).all(decoding: Upcoming.self, with: Self.decoder)
        var wanted: [OutboxNotification] = []
        var subjectTimes: [UUID: Date] = [:]
        for appointment in upcoming {
            subjectTimes[appointment.id] = appointment.starts_at
            for reminder in ReminderRules.reminders(startsAt: appointment.starts_at, now: now) {
                for channel in NotificationChannel.allCases {
                    wanted.append(
                        OutboxNotification(
                            tenantID: appointment.tenant_id, userID: appointment.user_id, channel: channel, kind: reminder.kind,
                            subjectID: appointment.id,
                            idempotencyKey: ReminderRules.reminderKey(
                                appointmentID: appointment.id, startsAt: appointment.starts_at, kind: reminder.kind, userID: appointment.user_id,
                                channel: channel),
                            dueAt: reminder.dueAt))
                }
            }
        }
        var queued = 0
        // By practice and in chunks: the lookup reads the (tenant_id, idempotency_key) index instead of the table.
        let chunks = Dictionary(grouping: wanted, by: \.tenantID).values.flatMap { rows in
            stride(from: 0, to: rows.count, by: 200).map { Array(rows[$0..<min($0 + 200, rows.count)]) }
        }
        for chunk in chunks {
            let existing = Set(
                try await sql.raw(
                    """
                    SELECT idempotency_key FROM notification_outbox
                    WHERE tenant_id = \(bind: chunk[0].tenantID) AND idempotency_key IN (\(binds: chunk.map(\.idempotencyKey)))
                    """
                ).all(decoding: KeyRow.self).map(\.idempotency_key))
            let missing = chunk.filter { !existing.contains($0.idempotencyKey) }
            guard !missing.isEmpty else { continue }
            try await insert(missing, subjectTimes: subjectTimes, now: now, on: sql)
            queued += missing.count
        }
        return (queued, withdrawn)
    }

    /// Inserts outbox rows; a row whose key is already queued (another instance was first) is left as it is.
    func insert(_ notifications: [OutboxNotification], subjectTimes: [UUID: Date] = [:], now: Date, on db: any SQLDatabase) async throws {
        for notification in notifications {
            let due = millisecondPrecision(notification.dueAt)
            try await db.raw(
                """
                INSERT INTO notification_outbox (id, tenant_id, user_id, channel, kind, subject_id, subject_at, idempotency_key, due_at, status,
                    attempts, next_attempt_at, created_at)
                VALUES (\(bind: notification.id), \(bind: notification.tenantID), \(bind: notification.userID), \(bind: notification.channel.rawValue),
                    \(bind: notification.kind.rawValue), \(bind: notification.subjectID), \(bind: subjectTimes[notification.subjectID].map(millisecondPrecision)),
                    \(bind: notification.idempotencyKey), \(bind: due), 'pending', 0, \(bind: due), \(bind: now))
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                """
            ).run()
        }
    }

    /// Claims up to `limit` due notifications for `lease` seconds under `claimID`: a claimed row is invisible to every
    /// other dispatcher until the claim lapses (then it was not finished: the dispatcher died) or is released.
    /// PostgreSQL skips rows another dispatcher is claiming at that moment instead of waiting for them.
    public func claimDueNotifications(now: Date, limit: Int, lease: TimeInterval, claimID: UUID) async throws -> [OutboxNotification] {
        let now = millisecondPrecision(now)
        let skipLocked = database.dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        let rows = try await sql.raw(
            """
            UPDATE notification_outbox SET claim_id = \(bind: claimID), locked_until = \(bind: now.addingTimeInterval(lease)), attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM notification_outbox
                WHERE status = 'pending' AND next_attempt_at <= \(bind: now) AND (locked_until IS NULL OR locked_until <= \(bind: now))
                ORDER BY next_attempt_at, id LIMIT \(literal: limit)\(unsafeRaw: skipLocked))
                AND status = 'pending' AND (locked_until IS NULL OR locked_until <= \(bind: now))
            RETURNING id, tenant_id, user_id, channel, kind, subject_id, idempotency_key, due_at, attempts
            """
        ).all(decoding: OutboxRow.self, with: Self.decoder)
        return try rows.map { try $0.notification() }
    }

    /// Records how a claimed notification ended; false when the claim had lapsed and another dispatcher holds it.
    @discardableResult
    public func finish(_ notification: OutboxNotification, claimID: UUID, outcome: NotificationOutcome, at: Date) async throws -> Bool {
        struct IDRow: Decodable { var id: UUID }
        let at = millisecondPrecision(at)
        let update: SQLQueryString
        switch outcome {
        case .sent:
            update = "status = 'sent', sent_at = \(bind: at), last_error = NULL"
        case .skipped(let reason):
            update = "status = 'skipped', last_error = \(bind: reason)"
        case .failed(let reason, let retryAt):
            let status = notification.attempts >= ReminderRules.maximumAttempts ? "failed" : "pending"
            update = "status = \(bind: status), next_attempt_at = \(bind: millisecondPrecision(retryAt)), last_error = \(bind: reason)"
        }
        return try await !sql.raw(
            """
            UPDATE notification_outbox SET \(update), claim_id = NULL, locked_until = NULL
            WHERE tenant_id = \(bind: notification.tenantID) AND id = \(bind: notification.id) AND claim_id = \(bind: claimID)
            RETURNING id
            """
        ).all(decoding: IDRow.self).isEmpty
    }

    /// The appointment reminders queued for `userID`'s phone (the push channel) due since `since`, soonest first:
    /// withdrawn and skipped ones are left out. At most `limit` (the outbox holds about a day ahead).
    public func scheduledReminders(userID: UUID, tenantID: UUID, since: Date, limit: Int = 200) async throws -> [ScheduledReminder] {
        struct Row: Decodable {
            var id: UUID
            var subject_id: UUID
            var patient_id: UUID
            var subject_at: Date
            var kind: String
            var due_at: Date
            var status: String
        }
        let rows = try await sql.raw(
            """
            SELECT o.id, o.subject_id, a.patient_id, o.subject_at, o.kind, o.due_at, o.status FROM notification_outbox o
            JOIN appointments a ON a.tenant_id = o.tenant_id AND a.id = o.subject_id
            WHERE o.tenant_id = \(bind: tenantID) AND o.user_id = \(bind: userID) AND o.channel = 'push'
                AND o.kind IN ('appointment_reminder_24h', 'appointment_reminder_1h') AND o.status IN ('pending', 'sent', 'failed')
                AND o.due_at >= \(bind: millisecondPrecision(since))
            ORDER BY o.due_at, o.id LIMIT \(literal: limit)
            """
        ).all(decoding: Row.self, with: Self.decoder)
        return try rows.map { row in
            guard let kind = NotificationKind(rawValue: row.kind) else { throw StorageError.corrupt("notification_outbox.kind") }
            guard let status = ScheduledReminder.Status(rawValue: row.status) else { throw StorageError.corrupt("notification_outbox.status") }
            return ScheduledReminder(
                id: row.id, appointmentID: row.subject_id, patientID: row.patient_id, appointmentStartsAt: row.subject_at, kind: kind, dueAt: row.due_at,
                status: status)
        }
    }

    /// The person's channel preferences (both on until switched off).
    public func notificationPreferences(userID: UUID, tenantID: UUID) async throws -> NotificationPreferences {
        struct Row: Decodable {
            var push_enabled: Bool
            var email_enabled: Bool
        }
        let row = try await sql.raw(
            "SELECT push_enabled, email_enabled FROM notification_preferences WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID)"
        ).first(decoding: Row.self)
        return row.map { NotificationPreferences(push: $0.push_enabled, email: $0.email_enabled) } ?? NotificationPreferences()
    }

    public func setNotificationPreferences(_ preferences: NotificationPreferences, userID: UUID, tenantID: UUID, at: Date) async throws {
        let at = millisecondPrecision(at)
        try await write { db in
            try await db.raw(
                """
                INSERT INTO notification_preferences (tenant_id, user_id, push_enabled, email_enabled, updated_at)
                VALUES (\(bind: tenantID), \(bind: userID), \(bind: preferences.push), \(bind: preferences.email), \(bind: at))
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET push_enabled = excluded.push_enabled, email_enabled = excluded.email_enabled,
                    updated_at = excluded.updated_at
                """
            ).run()
        }
    }
}
