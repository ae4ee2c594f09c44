import EHRDomain
import EHRPersistence
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Testing

@testable import EHRServer

/// Reminders and notifications: queued from the appointments and messages themselves, sent exactly once per
/// person and channel by any number of instances (also when one dies holding a claim), withdrawn when the
/// appointment moves or is cancelled, free of PHI, and only on the channels a person left on.
@Suite("Notifications", .serialized)
struct NotificationTests {
    let demo = TestWorld.demo

    /// A clock the test moves.
    final class TestClock: Sendable {
        private let instant: NIOLockedValueBox<Date>
        init(_ date: Date) { instant = NIOLockedValueBox(date) }
        var now: Date { instant.withLockedValue { $0 } }
        func set(_ date: Date) { instant.withLockedValue { $0 = date } }
    }

    struct OutboxRow: Decodable {
        var kind: String
        var channel: String
        var status: String
        var attempts: Int
        var user_id: UUID
    }

    static func outbox(_ world: TestWorld, subject: String) async throws -> [OutboxRow] {
        try await world.services.database.sql.raw(
            "SELECT kind, channel, status, attempts, user_id FROM notification_outbox WHERE subject_id = \(bind: UUID(uuidString: subject)!) ORDER BY kind, channel, status"
        ).all(decoding: OutboxRow.self)
    }

    /// Books Jane (Dr. Smith's client, with a portal account) at `startsAt` and returns the appointment's id.
    static func bookJane(_ world: TestWorld, at startsAt: Date) async throws -> String {
        let reply = try await world.call(
            .post, "/api/v1/appointments", as: .smith,
            json: [
                "patientId": TestWorld.demo.jane.wire, "therapistId": TestWorld.demo.smith.wire, "startsAt": RFC3339Text.format(startsAt),
                "endsAt": RFC3339Text.format(startsAt.addingTimeInterval(3000)), "timeZone": "America/New_York", "kind": "televisit",
            ])
        try #require(reply.status == .created, "\(reply.text)")
        return try #require(reply.json["id"] as? String)
    }

    /// Runs `body` with the services of a second instance on the same database (PostgreSQL; its pools are closed
    /// after), or with the same services again (SQLite).
    static func withSecondServices(_ world: TestWorld, _ body: (AppServices) async throws -> Void) async throws {
        guard world.services.database.dialect == .postgres else { return try await body(world.services) }
        let second = try await AppServices.make(configuration: world.services.configuration, logger: world.services.logger)
        do {
            try await body(second)
        } catch {
            await second.database.shutdown()
            throw error
        }
        await second.database.shutdown()
    }

    @Test(arguments: TestBackend.all)
    func remindersFireOnceEachOnTimeAcrossTwoInstancesAndADeadOne(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let start = Calendar.utc.startOfDay(for: Date()).addingTimeInterval(5 * 86_400 + 14 * 3600)
            let appointment = try await Self.bookJane(world, at: start)
            try await Self.withSecondServices(world) { second in try await remindersFireOnce(world, appointment, start, second) }
        }
    }

    private func remindersFireOnce(_ world: TestWorld, _ appointment: String, _ start: Date, _ second: AppServices) async throws {
        do {
            let clock = TestClock(start.addingTimeInterval(-26 * 3600))
            let pushesA = RecordingPushSender()
            let pushesB = RecordingPushSender()
            let a = NotificationScheduler(services: world.services, push: pushesA, email: nil, clock: { clock.now })
            let b = NotificationScheduler(services: second, push: pushesB, email: nil, clock: { clock.now })
            func janesPushes() -> [PushMessage] { (pushesA.pushes + pushesB.pushes).filter { $0.userID == demo.janeUser } }

            // A day and two hours ahead, nothing yet; a minute before the 24-hour mark, both reminders on both channels.
            try await a.reconcile()
            #expect(try await Self.outbox(world, subject: appointment).isEmpty)
            clock.set(start.addingTimeInterval(-24 * 3600 - 60))
            try await a.reconcile()
            try await b.reconcile()
            #expect(try await Self.outbox(world, subject: appointment).count == 4, "one row per reminder and channel, whoever queued it")
            try await a.dispatchDue()
            #expect(janesPushes().isEmpty, "nothing is due yet")

            // Due: both instances dispatch at once; the push goes out once, the e-mail (no SMTP server here) is skipped.
            clock.set(start.addingTimeInterval(-24 * 3600 + 1))
            async let first = a.dispatchDue()
            async let other = b.dispatchDue()
            _ = try await (first, other)
            #expect(janesPushes().map(\.kind) == [.appointmentReminder24h])

            // An instance claims the 1-hour reminder and dies before sending it: nobody else sends it while the claim
            // holds; once it lapses the next instance does, once.
            clock.set(start.addingTimeInterval(-3600 + 1))
            let deadClaim = UUID()
            let held = try await DatabaseScope.system(.notifications) {
                try await world.services.store.claimDueNotifications(now: clock.now, limit: 50, lease: 60, claimID: deadClaim)
            }
            #expect(held.contains { $0.kind == .appointmentReminder1h && $0.userID == demo.janeUser })
            try await b.dispatchDue()
            #expect(janesPushes().count == 1, "the claim still holds")
            clock.set(start.addingTimeInterval(-3600 + 62))
            try await b.dispatchDue()
            try await a.dispatchDue()
            #expect(janesPushes().map(\.kind) == [.appointmentReminder24h, .appointmentReminder1h])
            let late = try await world.services.store.finish(held[0], claimID: deadClaim, outcome: .sent, at: clock.now)
            #expect(!late, "a lapsed claim cannot record an outcome")

            let rows = try await Self.outbox(world, subject: appointment)
            #expect(rows.filter { $0.channel == "push" }.allSatisfy { $0.status == "sent" })
            #expect(rows.filter { $0.channel == "email" }.allSatisfy { $0.status == "skipped" })
            #expect(Set(janesPushes().map(\.apnsID)).count == 2, "each push has its own stable id")
            print("reminders [\(world.services.database.dialect)]: 2 instances + 1 dead claim, \(janesPushes().count) pushes for 2 reminders, none twice")
        }
    }

    @Test(arguments: TestBackend.all)
    func movedAndCancelledAppointmentsWithdrawTheirReminders(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let start = Calendar.utc.startOfDay(for: Date()).addingTimeInterval(6 * 86_400 + 13 * 3600)
            let appointment = try await Self.bookJane(world, at: start)
            let clock = TestClock(start.addingTimeInterval(-24 * 3600 - 60))
            let pushes = RecordingPushSender()
            let scheduler = NotificationScheduler(services: world.services, push: pushes, email: nil, clock: { clock.now })
            #expect(try await scheduler.reconcile().queued == 4)

            // Moved two hours later: the old reminders are withdrawn; the new time's are queued a day ahead of it.
            let moved = start.addingTimeInterval(2 * 3600)
            let patch = try await world.call(
                .patch, "/api/v1/appointments/\(appointment)", as: .smith,
                json: ["startsAt": RFC3339Text.format(moved), "endsAt": RFC3339Text.format(moved.addingTimeInterval(3000))])
            #expect(patch.status == .ok, "\(patch.text)")
            #expect(try await scheduler.reconcile().withdrawn == 4)
            clock.set(start.addingTimeInterval(-24 * 3600 + 1))
            try await scheduler.dispatchDue()
            #expect(pushes.pushes.filter { $0.userID == demo.janeUser }.isEmpty, "the old time's reminder is not sent")
            clock.set(moved.addingTimeInterval(-24 * 3600 - 60))
            #expect(try await scheduler.reconcile().queued == 4)
            clock.set(moved.addingTimeInterval(-24 * 3600 + 1))
            try await scheduler.dispatchDue()
            #expect(pushes.pushes.filter { $0.userID == demo.janeUser }.map(\.kind) == [.appointmentReminder24h])

            // Cancelled: the 1-hour reminder is withdrawn and never sent.
            #expect(try await world.call(.delete, "/api/v1/appointments/\(appointment)", as: .smith).status == .ok)
            #expect(try await scheduler.reconcile().withdrawn == 2)
            clock.set(moved.addingTimeInterval(-3600 + 1))
            try await scheduler.dispatchDue()
            #expect(pushes.pushes.filter { $0.userID == demo.janeUser }.count == 1)
            let statuses = try await Self.outbox(world, subject: appointment).map(\.status)
            #expect(statuses.filter { $0 == "withdrawn" }.count == 6 && statuses.filter { $0 == "pending" }.isEmpty, "\(statuses)")
        }
    }

    @Test(arguments: TestBackend.all)
    func messageNotificationsReachPushAndMailWithoutPHIOnlyOnChannelsLeftOn(_ backend: TestBackend) async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        try await sink.ready()
        let port = sink.port
        try await withWorld(backend, configure: Self.mail(to: port)) { world in
            let thread = try #require(
                try await world.call(.post, "/api/v1/threads", as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            let clock = TestClock(Date())
            let pushes = RecordingPushSender()
            let scheduler = NotificationScheduler(services: world.services, push: pushes, email: world.services.emailSender, clock: { clock.now })
            func send(_ account: TestWorld.Account, _ body: String) async throws {
                #expect(try await world.call(.post, "/api/v1/threads/\(thread)/messages", as: account, json: ["body": body]).status == .created)
            }

            try await send(.john, "sentinel-notify-Tapirish about my panic attacks")
            clock.set(Date().addingTimeInterval(1))
            try await scheduler.dispatchDue()
            let push = try #require(pushes.pushes.first { $0.userID == demo.smith })
            #expect(push.kind == .newMessage && pushes.pushes.count == 1, "only the other participant is notified")
            let mail = try #require(sink.messages.first)
            #expect(sink.messages.count == 1 && mail.contains("dr.smith@demo.test") && mail.contains("Message-ID: <"))
            // Nothing of the patient, the thread or the text: not in the push payload, not in the mail.
            for text in [push.payload, mail] {
                for secret in ["Tapirish", "panic", "John", "Doe", demo.john.wire, thread] {
                    #expect(!text.contains(secret), "\(secret) in \(text)")
                }
            }

            // Dr. Smith switches e-mail off: the next message reaches his phone only.
            let preferences = try await world.call(.patch, "/api/v1/notification-preferences", as: .smith, json: ["email": false])
            #expect(preferences.status == .ok && preferences.json["email"] as? Bool == false && preferences.json["push"] as? Bool == true)
            #expect(try await world.call(.get, "/api/v1/notification-preferences", as: .smith).json["email"] as? Bool == false)
            #expect(try await world.call(.patch, "/api/v1/notification-preferences", as: .smith, json: ["email": "no"]).status == .badRequest)
            try await send(.john, "second")
            clock.set(Date().addingTimeInterval(1))
            try await scheduler.dispatchDue()
            #expect(pushes.pushes.filter { $0.userID == demo.smith }.count == 2 && sink.messages.count == 1)

            // The mail server is down: the e-mail to John waits and is sent once when it is back.
            let down = NotificationScheduler(
                services: world.services, push: pushes, email: SMTPMailer(url: "smtp://127.0.0.1:1", from: "notifications@demo.test"),
                clock: { clock.now })
            try await send(.smith, "reply")
            clock.set(Date().addingTimeInterval(1))
            try await down.dispatchDue()
            #expect(sink.messages.count == 1)
            let waiting = try await world.services.database.sql.raw(
                "SELECT status, attempts FROM notification_outbox WHERE kind = 'new_message' AND channel = 'email' AND user_id = \(bind: demo.johnUser)"
            ).all(decoding: StatusRow.self)
            #expect(waiting.map(\.status) == ["pending"] && waiting.map(\.attempts) == [1], "\(waiting)")
            clock.set(clock.now.addingTimeInterval(ReminderRules.backoff(afterAttempts: 1) + 1))
            try await scheduler.dispatchDue()
            try await scheduler.dispatchDue()
            let toJohn = sink.messages.filter { $0.contains("john.doe@demo.test") }
            #expect(toJohn.count == 1, "\(sink.messages.count) messages")
        }
    }

    static func mail(to port: Int) -> @Sendable (inout AppConfiguration) -> Void {
        { $0.smtpURL = "smtp://127.0.0.1:\(port)" }
    }

    struct StatusRow: Decodable {
        var status: String
        var attempts: Int
    }

    @Test(arguments: TestBackend.all)
    func theAppListsTheRemindersTheServiceHoldsForItsUser(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // The seeded session of Dr. Smith tomorrow at 15:00 UTC would overlap the one booked or moved below when
            // the suite runs between about 14:00 and 17:40 UTC (409): it is cancelled first.
            let cancelled = try await world.call(
                .delete, "/api/v1/appointments/\(TestWorld.demo.johnAppointment.wire)", as: .admin, json: ["reason": "out of the test's way"])
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            // A session a day and ten minutes from now: both its reminders are queued now.
            let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.up) * 60 + 86_400 + 600)
            let appointment = try await Self.bookJane(world, at: start)
            let scheduler = NotificationScheduler(services: world.services, push: RecordingPushSender(), email: nil, clock: { Date() })
            try await scheduler.reconcile()

            func reminders(_ account: TestWorld.Account, in practice: TestWorld.Practice = TestWorld.demo) async throws -> (push: Bool?, items: [[String: Any]])
            {
                let reply = try await world.call(.get, "/api/v1/reminders", as: account, in: practice)
                #expect(reply.status == .ok, "\(reply.text)")
                return (reply.json["push"] as? Bool, reply.json["items"] as? [[String: Any]] ?? [])
            }
            let jane = try await reminders(.jane)
            let mine = jane.items.filter { $0["appointmentId"] as? String == appointment }
            #expect(jane.push == true)
            #expect(mine.map { $0["kind"] as? String } == ["appointment_reminder_24h", "appointment_reminder_1h"], "\(jane.items)")
            let due = mine.compactMap { ($0["dueAt"] as? String).flatMap(RFC3339Text.parse) }
            #expect(due == [start.addingTimeInterval(-86_400), start.addingTimeInterval(-3600)], "\(mine)")
            #expect(mine.allSatisfy { ($0["appointmentStartsAt"] as? String).flatMap(RFC3339Text.parse) == start && $0["status"] as? String == "pending" })
            #expect(mine.map { $0["body"] as? String } == ["You have an appointment tomorrow.", "You have an appointment in 1 hour."])

            // Nobody else's list holds them: her therapist, another client, the other practice's Jane.
            for (account, practice) in [(TestWorld.Account.smith, demo), (.john, demo), (.jane, TestWorld.other)] {
                let theirs = try await reminders(account, in: practice).items
                let leaked = theirs.contains { $0["appointmentId"] as? String == appointment }
                #expect(!leaked, "\(account) of \(practice.slug)")
            }

            // Moved two hours earlier: after the next pass the list holds the new start's reminder only (its "tomorrow"
            // reminder would have been due two hours ago, too late to send).
            let moved = start.addingTimeInterval(-7200)
            let patch = try await world.call(
                .patch, "/api/v1/appointments/\(appointment)", as: .smith,
                json: ["startsAt": RFC3339Text.format(moved), "endsAt": RFC3339Text.format(moved.addingTimeInterval(3000))])
            #expect(patch.status == .ok, "\(patch.text)")
            try await scheduler.reconcile()
            let after = try await reminders(.jane).items.filter { $0["appointmentId"] as? String == appointment }
            let starts = Set(after.compactMap { ($0["appointmentStartsAt"] as? String).flatMap(RFC3339Text.parse) })
            #expect(starts == [moved] && after.map { $0["kind"] as? String } == ["appointment_reminder_1h"], "\(after)")

            // Push switched off: the app is told, and schedules none.
            #expect(try await world.call(.patch, "/api/v1/notification-preferences", as: .jane, json: ["push": false]).status == .ok)
            let off = try await reminders(.jane)
            #expect(off.push == false && off.items.isEmpty)

            // The read is in the audit log, naming Jane's record.
            let events = try await world.storedEvents().filter { $0.action == "reminder.list" && $0.actor_id == demo.janeUser.wire }
            let named = events.contains { ($0.patient_ids ?? "").contains(demo.jane.wire) || $0.patient_id == demo.jane.wire }
            #expect(named, "\(events.map { ($0.patient_id, $0.patient_ids) })")
        }
    }
}
