import Foundation

/// How a notification reaches a person.
public enum NotificationChannel: String, Sendable, CaseIterable, Codable {
    /// A push to the person's phone (an APNs-shaped payload).
    case push
    /// An e-mail to the address of the person's account.
    case email
}

/// What a notification is about. Its text never names anyone, a reason or a message: a lock screen, a shared
/// inbox or a push provider sees only that there is something to look at.
public enum NotificationKind: String, Sendable, CaseIterable, Codable {
    case appointmentReminder24h = "appointment_reminder_24h"
    case appointmentReminder1h = "appointment_reminder_1h"
    case newMessage = "new_message"

    /// The whole text a person sees, free of PHI.
    public var title: String { "MentalSpace" }
    public var body: String {
        switch self {
        case .appointmentReminder24h: "You have an appointment tomorrow."
        case .appointmentReminder1h: "You have an appointment in 1 hour."
        case .newMessage: "You have a new secure message. Sign in to read it."
        }
    }

    /// How long before the appointment's start a reminder is due; nil for other kinds.
    public var leadTime: TimeInterval? {
        switch self {
        case .appointmentReminder24h: 24 * 3600
        case .appointmentReminder1h: 3600
        case .newMessage: nil
        }
    }

    public static let reminders: [NotificationKind] = [.appointmentReminder24h, .appointmentReminder1h]
}

/// One notification waiting in (or taken from) the outbox.
public struct OutboxNotification: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var userID: UUID
    public var channel: NotificationChannel
    public var kind: NotificationKind
    /// The appointment or thread it is about.
    public var subjectID: UUID
    /// The same for every attempt and every instance: a receiver can drop a repeat (APNs `apns-id`, the e-mail's
    /// `Message-ID`).
    public var idempotencyKey: String
    public var dueAt: Date
    /// Attempts so far, this one included.
    public var attempts: Int

    public init(
        id: UUID = UUID(), tenantID: UUID, userID: UUID, channel: NotificationChannel, kind: NotificationKind, subjectID: UUID,
        idempotencyKey: String, dueAt: Date, attempts: Int = 0
    ) {
        self.id = id
        self.tenantID = tenantID
        self.userID = userID
        self.channel = channel
        self.kind = kind
        self.subjectID = subjectID
        self.idempotencyKey = idempotencyKey
        self.dueAt = dueAt
        self.attempts = attempts
    }
}

/// An appointment reminder the service holds for a person's phone, as their app schedules it.
public struct ScheduledReminder: Sendable, Hashable {
    public enum Status: String, Sendable {
        /// Not due yet (or due, and being sent).
        case pending
        case sent
        /// Given up after ``ReminderRules/maximumAttempts``.
        case failed
    }

    public var id: UUID
    public var appointmentID: UUID
    /// The appointment's patient (the reader's access log names the read).
    public var patientID: UUID
    /// The appointment's start the reminder was made for (a moved appointment gets new reminders).
    public var appointmentStartsAt: Date
    public var kind: NotificationKind
    public var dueAt: Date
    public var status: Status

    public init(id: UUID, appointmentID: UUID, patientID: UUID, appointmentStartsAt: Date, kind: NotificationKind, dueAt: Date, status: Status) {
        self.id = id
        self.appointmentID = appointmentID
        self.patientID = patientID
        self.appointmentStartsAt = appointmentStartsAt
        self.kind = kind
        self.dueAt = dueAt
        self.status = status
    }
}

/// Which channels a person wants. Both are on until they switch one off.
public struct NotificationPreferences: Sendable, Hashable {
    public var push: Bool
    public var email: Bool

    public init(push: Bool = true, email: Bool = true) {
        self.push = push
        self.email = email
    }

    public func allows(_ channel: NotificationChannel) -> Bool {
        switch channel {
        case .push: push
        case .email: email
        }
    }
}

/// When reminders are due and how failed sends are retried.
public enum ReminderRules {
    /// A reminder whose time passed longer ago than this when it is first queued (an appointment booked for in
    /// three hours has no "tomorrow" reminder) is not queued at all.
    public static let staleAfter: TimeInterval = 10 * 60
    /// Attempts before a notification is given up as failed.
    public static let maximumAttempts = 8

    /// The reminders an appointment starting at `startsAt` should have, seen at `now`.
    public static func reminders(startsAt: Date, now: Date) -> [(kind: NotificationKind, dueAt: Date)] {
        guard startsAt > now else { return [] }
        return NotificationKind.reminders.compactMap { kind in
            let due = startsAt.addingTimeInterval(-kind.leadTime!)
            return due >= now.addingTimeInterval(-staleAfter) ? (kind, due) : nil
        }
    }

    /// The idempotency key of a reminder: a moved appointment (another start) gets new reminders, the old ones
    /// are withdrawn.
    public static func reminderKey(appointmentID: UUID, startsAt: Date, kind: NotificationKind, userID: UUID, channel: NotificationChannel) -> String {
        let millis = Int64((startsAt.timeIntervalSince1970 * 1000).rounded())
        return "reminder:\(kind.rawValue):\(appointmentID.lowercasedString):\(millis):\(userID.lowercasedString):\(channel.rawValue)"
    }

    public static func messageKey(messageID: UUID, userID: UUID, channel: NotificationChannel) -> String {
        "message:\(messageID.lowercasedString):\(userID.lowercasedString):\(channel.rawValue)"
    }

    /// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, 30 * pow(2, Double(max(0, attempts - 1))))
    }
}
