import Foundation
import Testing

@testable import EHRClient

/// Pure pieces of the client core.
struct ClientUnitTests {
    static func appointment(_ id: String, startsIn hours: Double, status: String = "scheduled", from now: Date) -> UpcomingAppointment {
        var a = UpcomingAppointment(
            id: id, startsAt: now.addingTimeInterval(hours * 3600), endsAt: now.addingTimeInterval(hours * 3600 + 3000),
            timeZone: "America/New_York", status: status, kind: "televisit", therapistId: "t", patientId: "p", reason: "private")
        a.status = status
        return a
    }

    @Test func remindersAre24And1HoursBeforeFutureStartsOnly() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let reminders = ReminderPlanner.reminders(
            for: [
                Self.appointment("far", startsIn: 72, from: now),
                Self.appointment("soon", startsIn: 5, from: now),
                Self.appointment("cancelled", startsIn: 30, status: "cancelled", from: now),
            ], now: now)
        #expect(reminders.map(\.id) == ["soon-1h", "far-24h", "far-1h"])
        #expect(reminders.first?.fireAt == now.addingTimeInterval(4 * 3600))
        #expect(reminders.allSatisfy { !$0.body.contains("private") && !$0.read })
    }

    @Test func theServicesRemindersTakeThePlacesOfPlannedOnesOfTheSameStart() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let soon = Self.appointment("soon", startsIn: 20, from: now)
        let moved = Self.appointment("moved", startsIn: 30, from: now)
        let cancelled = Self.appointment("cancelled", startsIn: 10, status: "cancelled", from: now)
        func server(_ a: UpcomingAppointment, _ label: String, startsAt: Date? = nil, lead: TimeInterval) -> ServerReminder {
            let start = startsAt ?? a.startsAt
            return ServerReminder(
                appointmentId: a.id, appointmentStartsAt: start, label: label, dueAt: start.addingTimeInterval(-lead), title: "MentalSpace",
                body: "from the service")
        }
        let reminders = ReminderPlanner.reminders(
            for: [soon, moved, cancelled],
            server: [
                server(soon, "1h", lead: 3600),
                // Made for the start before the appointment moved: not used.
                server(moved, "1h", startsAt: moved.startsAt.addingTimeInterval(-7200), lead: 3600),
                server(cancelled, "1h", lead: 3600),
                // For an appointment this device does not have: not used.
                ServerReminder(appointmentId: "gone", appointmentStartsAt: now + 9000, label: "1h", dueAt: now + 5400, title: "x", body: "x"),
            ], now: now)
        #expect(reminders.map(\.id) == ["moved-24h", "soon-1h", "moved-1h"])
        #expect(reminders.filter { $0.body == "from the service" }.map(\.id) == ["soon-1h"])
    }

    @Test func labelsAndUnreadState() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var a = Self.appointment("a", startsIn: 2, status: "no_show", from: now)
        #expect(a.statusLabel == "No show" && a.kindLabel == "Video session" && a.isVideoSession)
        a.kind = "in_person"
        #expect(a.kindLabel == "In person")
        let reminder = Reminder(id: "r", appointmentId: "a", fireAt: now, title: "t", body: "b", read: false)
        #expect(reminder.isUnread(now: now) && !reminder.isUnread(now: now.addingTimeInterval(-1)))
    }

    @MainActor
    @Test func chatCanSendOnlyText() {
        let model = ChatViewModel(chat: NoChat())
        #expect(!model.canSend)
        model.draft = "  \n "
        #expect(!model.canSend)
        model.draft = "hi"
        #expect(model.canSend)
    }

    @Test func fileSecureStoreIsOwnerOnlyAndReplacesAtomically() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = FileSecureStore(url: folder.appendingPathComponent("session.json"))
        #expect(try store.read() == nil)
        try store.write(Data("one".utf8))
        try store.write(Data("two".utf8))
        #expect(try store.read() == Data("two".utf8))
        #expect(try FileManager.default.attributesOfItem(atPath: store.url.path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: folder.path)[.posixPermissions] as? Int == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["session.json"])
        try store.delete()
        #expect(try store.read() == nil)
    }

    @Test func unreachableServersAreOffline() {
        #expect(ClientError.from(URLError(.cannotConnectToHost)) == .offline)
        #expect(ClientError.from(URLError(.timedOut)) == .offline)
        #expect(ClientError.from(ClientError.wrongCredentials) == .wrongCredentials)
        #expect(ClientError.locked(retryAfter: 600).message.contains("10 minutes"))
    }

    @Test func defaultHomeFollowsTheEnvironment() {
        #expect(MentalSpaceClient.defaultHome(environment: ["EHR_CLIENT_HOME": "/tmp/x"]).path == "/tmp/x")
        #if os(Linux)
            #expect(MentalSpaceClient.defaultHome(environment: ["XDG_CONFIG_HOME": "/cfg"]).path == "/cfg/mentalspace-ehr")
        #endif
    }
}

/// A chat that is never reached (for view-model state only).
struct NoChat: ChatService {
    func channel() async throws(ClientError) -> ChatChannel { throw .notSignedIn }
    func messages() async throws(ClientError) -> [ChatMessage] { throw .notSignedIn }
    func send(_ text: String) async throws(ClientError) -> ChatMessage { throw .notSignedIn }
    func receive(_ event: LiveEvent) async -> [ChatMessage]? { nil }
}
