import Foundation
import GRDB

/// A reminder of an upcoming appointment. Its text names no therapist or reason: it shows on a lock screen.
public struct Reminder: Codable, Sendable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "reminder"
    public var id: String
    public var appointmentId: String
    public var fireAt: Date
    public var title: String
    public var body: String
    /// Seen by the user (unread reminders that have fired make up the badge).
    public var read: Bool

    /// Fired and not yet seen.
    public func isUnread(now: Date = Date()) -> Bool { !read && fireAt <= now }
}

/// Schedules appointment reminders and keeps the unread badge. iOS posts local notifications; Linux and
/// tests record them in the local store.
public protocol Notifier: Sendable {
    /// Replaces every scheduled reminder with `reminders` (called after every sync).
    func replaceReminders(_ reminders: [Reminder]) async
    /// The reminders scheduled, soonest first.
    func scheduledReminders() async -> [Reminder]
    /// Reminders that have fired and are unread.
    func badgeCount(now: Date) async -> Int
    /// Marks every fired reminder read.
    func markAllRead(now: Date) async
    /// Removes every reminder (sign-out: the next user of the device must not get them).
    func removeAll() async
}

/// Which reminders an appointment list calls for: 24 hours and 1 hour before each start still in the future.
public enum ReminderPlanner {
    public static let offsets: [(label: String, seconds: TimeInterval)] = [("24h", 24 * 3600), ("1h", 3600)]

    public static func reminders(for appointments: [UpcomingAppointment], now: Date) -> [Reminder] {
        appointments.filter { $0.status != "cancelled" }.flatMap { appointment in
            offsets.compactMap { offset -> Reminder? in
                let fireAt = appointment.startsAt.addingTimeInterval(-offset.seconds)
                guard fireAt > now else { return nil }
                let when = offset.label == "24h" ? "tomorrow" : "in 1 hour"
                let kind = appointment.kind == "televisit" ? "video session" : "appointment"
                return Reminder(
                    id: "\(appointment.id)-\(offset.label)", appointmentId: appointment.id, fireAt: fireAt,
                    title: "Upcoming \(kind)", body: "You have a \(kind) \(when).", read: false)
            }
        }.sorted { ($0.fireAt, $0.id) < ($1.fireAt, $1.id) }
    }
}

/// A reminder the service holds for this phone (`GET /api/v1/reminders`).
public struct ServerReminder: Sendable, Equatable {
    public var appointmentId: String
    /// The start the reminder was made for: one made before the appointment moved is not used.
    public var appointmentStartsAt: Date
    /// "24h" or "1h", as ``ReminderPlanner/offsets`` names them.
    public var label: String
    public var dueAt: Date
    public var title: String
    public var body: String

    public init(appointmentId: String, appointmentStartsAt: Date, label: String, dueAt: Date, title: String, body: String) {
        self.appointmentId = appointmentId
        self.appointmentStartsAt = appointmentStartsAt
        self.label = label
        self.dueAt = dueAt
        self.title = title
        self.body = body
    }
}

extension ReminderPlanner {
    /// The local plan, with the service's reminders in place of the planned ones of the same appointment, start and
    /// kind. The service holds reminders about a day ahead; further appointments keep the local plan.
    public static func reminders(for appointments: [UpcomingAppointment], server: [ServerReminder], now: Date) -> [Reminder] {
        var byID = Dictionary(reminders(for: appointments, now: now).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let current = Dictionary(appointments.filter { $0.status != "cancelled" }.map { ($0.id, $0.startsAt) }, uniquingKeysWith: { first, _ in first })
        for reminder in server where reminder.dueAt > now {
            guard let startsAt = current[reminder.appointmentId], abs(startsAt.timeIntervalSince(reminder.appointmentStartsAt)) < 1 else { continue }
            let id = "\(reminder.appointmentId)-\(reminder.label)"
            byID[id] = Reminder(
                id: id, appointmentId: reminder.appointmentId, fireAt: reminder.dueAt, title: reminder.title, body: reminder.body, read: false)
        }
        return byID.values.sorted { ($0.fireAt, $0.id) < ($1.fireAt, $1.id) }
    }
}

/// Records reminders in the local store instead of posting them (Linux, the command-line client, tests).
public struct RecordingNotifier: Notifier {
    let store: LocalStore

    public init(store: LocalStore) {
        self.store = store
    }

    public func replaceReminders(_ reminders: [Reminder]) async {
        try? await store.queue.write { db in
            // Keep "read" for reminders that stay, so a re-sync does not resurrect the badge.
            let read = Set(try String.fetchAll(db, sql: "SELECT id FROM reminder WHERE read"))
            try Reminder.deleteAll(db)
            for var reminder in reminders {
                reminder.read = read.contains(reminder.id)
                try reminder.insert(db)
            }
        }
    }

    public func scheduledReminders() async -> [Reminder] {
        (try? await store.queue.read { db in try Reminder.order(Column("fireAt"), Column("id")).fetchAll(db) }) ?? []
    }

    public func badgeCount(now: Date) async -> Int {
        (try? await store.queue.read { db in try Reminder.filter(Column("fireAt") <= now && Column("read") == false).fetchCount(db) }) ?? 0
    }

    public func markAllRead(now: Date) async {
        _ = try? await store.queue.write { db in try Reminder.filter(Column("fireAt") <= now).updateAll(db, Column("read").set(to: true)) }
    }

    public func removeAll() async {
        _ = try? await store.queue.write { db in try Reminder.deleteAll(db) }
    }
}

#if canImport(UserNotifications)
    import UserNotifications

    /// Posts reminders as local notifications (iOS), keeping the same records for the badge.
    public struct LocalNotificationNotifier: Notifier {
        let records: RecordingNotifier

        public init(store: LocalStore) {
            records = RecordingNotifier(store: store)
        }

        public func replaceReminders(_ reminders: [Reminder]) async {
            let center = UNUserNotificationCenter.current()
            let old = await records.scheduledReminders().map(\.id)
            center.removePendingNotificationRequests(withIdentifiers: old)
            await records.replaceReminders(reminders)
            for reminder in reminders {
                let content = UNMutableNotificationContent()
                content.title = reminder.title
                content.body = reminder.body
                let trigger = UNTimeIntervalNotificationTrigger(timeInterval: max(1, reminder.fireAt.timeIntervalSinceNow), repeats: false)
                try? await center.add(UNNotificationRequest(identifier: reminder.id, content: content, trigger: trigger))
            }
        }

        public func scheduledReminders() async -> [Reminder] { await records.scheduledReminders() }
        public func badgeCount(now: Date) async -> Int { await records.badgeCount(now: now) }
        public func markAllRead(now: Date) async { await records.markAllRead(now: now) }

        public func removeAll() async {
            let center = UNUserNotificationCenter.current()
            center.removeAllPendingNotificationRequests()
            center.removeAllDeliveredNotifications()
            try? await center.setBadgeCount(0)
            await records.removeAll()
        }
    }
#endif
