import EHRDomain
import EHRPersistence
import Foundation
import Logging

/// Queues appointment reminders and sends what the outbox holds, on an injected clock (tests move it instead of
/// waiting). Any number of instances may run it at once: a reminder is one row per idempotency key, and a row is
/// sent by the one dispatcher whose claim holds it. A dispatcher that dies after claiming leaves the row to the next
/// one once the claim lapses; one that dies after the channel accepted but before recording it repeats the send
/// with the same idempotency key (`apns-id`, `Message-ID`), which the receiver drops.
struct NotificationScheduler: Sendable {
    let services: AppServices
    let push: any PushSender
    /// Nil when no SMTP server is configured: e-mail notifications are then skipped.
    let email: (any EmailSender)?
    var clock: @Sendable () -> Date = { Date() }
    /// How long a claim holds a row; longer than any one send takes (the SMTP exchange times out at 20 s).
    var lease: TimeInterval = 60
    var batch = 50

    var store: SQLStore { services.store }

    /// Queues the coming day's reminders and withdraws those of cancelled or moved appointments.
    @discardableResult
    func reconcile() async throws -> (queued: Int, withdrawn: Int) {
        let now = clock()
        return try await DatabaseScope.system(.notifications) { try await store.reconcileReminders(now: now) }
    }

    /// Sends every notification due now, batch after batch. Returns how many were claimed.
    @discardableResult
    func dispatchDue() async throws -> Int {
        var total = 0
        while true {
            let claimID = UUID()
            let now = clock()
            let claimed = try await DatabaseScope.system(.notifications) {
                try await store.claimDueNotifications(now: now, limit: batch, lease: lease, claimID: claimID)
            }
            for notification in claimed {
                let outcome = await deliver(notification)
                try await DatabaseScope.tenant(notification.tenantID) {
                    try await store.finish(notification, claimID: claimID, outcome: outcome, at: clock())
                }
            }
            total += claimed.count
            if claimed.count < batch { return total }
        }
    }

    /// Sends one notification in its practice's scope; never throws (a failure is retried with backoff).
    private func deliver(_ notification: OutboxNotification) async -> NotificationOutcome {
        do {
            return try await DatabaseScope.tenant(notification.tenantID) {
                let preferences = try await store.notificationPreferences(userID: notification.userID, tenantID: notification.tenantID)
                guard preferences.allows(notification.channel) else { return .skipped("switched off by the recipient") }
                guard let user = try await store.find(id: notification.userID, tenantID: notification.tenantID) as User?, user.active else {
                    return .skipped("no active account")
                }
                switch notification.channel {
                case .push:
                    try await push.send(PushMessage(notification))
                case .email:
                    guard let email else { return .skipped("no SMTP server configured") }
                    try await email.send(EmailMessage(to: user.email, notification))
                }
                return .sent
            }
        } catch {
            // The error's type only: a server's reply can quote an address.
            let retryAt = clock().addingTimeInterval(ReminderRules.backoff(afterAttempts: notification.attempts))
            services.logger.warning(
                "notification not sent; will retry",
                metadata: ["error.type": "\(type(of: error))", "notification.kind": "\(notification.kind.rawValue)", "attempt": "\(notification.attempts)"])
            return .failed(String(describing: type(of: error)), retryAt: retryAt)
        }
    }
}
