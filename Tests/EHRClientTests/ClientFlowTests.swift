import Foundation
import Testing

@testable import EHRClient

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The client core against the real server (in this process, demo practice seeded): the flows the mobile
/// app and `ehr-client` are built on.
@Suite("Client flows against the real server", .serialized)
struct ClientFlowTests {
    static let password = "mentalspace-demo"

    @MainActor
    @Test func signInListGoOfflineAndComeBack() async throws {
        try await withLiveServer { server in
            let client = MentalSpaceClient(home: server.clientHome())
            let signIn = SignInViewModel(client: client, server: server.url.absoluteString)
            signIn.tenant = "demo"
            signIn.email = "john.doe@demo.test"
            signIn.password = Self.password
            #expect(signIn.canSubmit)
            await signIn.signIn()
            guard case .signedIn(let info) = signIn.state else {
                Issue.record("not signed in: \(signIn.state)")
                return
            }
            #expect(info.role == "client" && info.patientID != nil && signIn.password.isEmpty)

            let services = try await client.userServices()
            let list = AppointmentListViewModel(store: services.appointments)
            await list.refresh()
            guard case .loaded(let online) = list.state else {
                Issue.record("not loaded: \(list.state)")
                return
            }
            #expect(!online.appointments.isEmpty && online.lastSync != nil && !online.isOffline)
            #expect(online.appointments.allSatisfy { $0.patientId == info.patientID })

            // The server goes away: the same list comes from the cache, with its sync time.
            await server.stop()
            await list.refresh()
            guard case .offline(let cached) = list.state else {
                Issue.record("not offline: \(list.state)")
                return
            }
            #expect(cached.isOffline && cached.appointments.map(\.id) == online.appointments.map(\.id))
            #expect(zip(cached.appointments, online.appointments).allSatisfy { abs($0.startsAt.timeIntervalSince($1.startsAt)) < 0.001 })
            #expect(abs(cached.lastSync!.timeIntervalSince(online.lastSync!)) < 0.001)
            #expect(AppointmentListViewModel.offlineBanner(cached, now: online.lastSync!.addingTimeInterval(300)) == "Offline. Last updated 5 minutes ago.")

            // It comes back: the network-returned hook syncs again.
            try await server.start()
            await list.networkBecameAvailable()
            guard case .loaded(let again) = list.state else {
                Issue.record("not reloaded: \(list.state)")
                return
            }
            #expect(again.appointments == online.appointments && again.lastSync! > online.lastSync! && !again.isOffline)
        }
    }

    @Test func aClientNeverSeesAnotherClientsAppointments() async throws {
        try await withLiveServer { server in
            var lists: [String: [UpcomingAppointment]] = [:]
            for email in ["john.doe@demo.test", "bob.wilson@demo.test", "jane.smith@demo.test"] {
                let client = MentalSpaceClient(home: server.clientHome(email))
                let info = try await client.signIn(server: server.url, tenant: "demo", email: email, password: Self.password)
                let snapshot = try await client.userServices().appointments.sync()
                #expect(snapshot.appointments.allSatisfy { $0.patientId == info.patientID }, "\(email)")
                lists[email] = snapshot.appointments
            }
            let john = Set(lists["john.doe@demo.test"]!.map(\.id))
            let bob = Set(lists["bob.wilson@demo.test"]!.map(\.id))
            #expect(!john.isEmpty && !bob.isEmpty && john.isDisjoint(with: bob))
        }
    }

    @MainActor
    @Test func wrongCredentialsAndLockoutAreTypedErrors() async throws {
        try await withLiveServer { server in
            let client = MentalSpaceClient(home: server.clientHome())
            let model = SignInViewModel(client: client, server: server.url.absoluteString)
            model.tenant = "demo"
            model.email = "john.doe@demo.test"
            model.password = "not-the-password-1"
            await model.signIn()
            #expect(model.state == .failed(.wrongCredentials))
            #expect(await client.session.current == nil)
            for _ in 0..<5 { _ = try? await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: "nope-nope-nope") }
            do {
                try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
                Issue.record("a locked account signed in")
            } catch let error as ClientError {
                guard case .locked(let seconds) = error else {
                    Issue.record("expected locked, got \(error)")
                    return
                }
                #expect((seconds ?? 0) > 0)
            }
            // No server at all is "offline", not a crash or a generic failure.
            await server.stop()
            await #expect(throws: ClientError.offline) {
                try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
            }
        }
    }

    @Test func tokensRefreshAcrossExpiry() async throws {
        // Access tokens live 2 seconds on this server.
        try await withLiveServer(accessTokenLifetime: 2) { server in
            // Reactive: no early refresh, so the expired token meets a 401 and is refreshed once, then the call is retried.
            let reactive = MentalSpaceClient(home: server.clientHome("reactive"), refreshMargin: 0)
            let first = try await reactive.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
            try await Task.sleep(for: .seconds(3))
            let snapshot = try await reactive.userServices().appointments.sync()
            #expect(!snapshot.appointments.isEmpty)
            let after = try #require(await reactive.session.current)
            #expect(after.refreshToken != first.refreshToken && after.accessToken != first.accessToken)

            // Proactive: a token with less than the margin left is refreshed before the request.
            let proactive = MentalSpaceClient(home: server.clientHome("proactive"), refreshMargin: 60)
            let signedIn = try await proactive.signIn(server: server.url, tenant: "demo", email: "bob.wilson@demo.test", password: Self.password)
            _ = try await proactive.userServices().appointments.sync()
            #expect(await proactive.session.current?.refreshToken != signedIn.refreshToken)

            // A refresh token the server no longer accepts ends the session with a typed error.
            let stale = try #require(await reactive.session.current)
            _ = try await reactive.session.refresh()
            let replay = MentalSpaceClient(home: server.clientHome("replay"), secureStore: MemoryStore(try JSONEncoder().encode(stale)), refreshMargin: 0)
            await #expect(throws: ClientError.sessionExpired) { try await replay.session.refresh() }
            #expect(await replay.session.current == nil)
        }
    }

    @Test func signOutRevokesTheSessionAndWipesTokensAndCache() async throws {
        try await withLiveServer { server in
            let home = server.clientHome()
            let client = MentalSpaceClient(home: home)
            try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
            let services = try await client.userServices()
            _ = try await services.appointments.sync()
            try await services.chat.send("See you Thursday")
            let session = try #require(await client.session.current)
            let sessionFile = home.appendingPathComponent("session.json")
            #expect(FileManager.default.fileExists(atPath: sessionFile.path) && FileManager.default.fileExists(atPath: services.store.url.path))
            let mode = try FileManager.default.attributesOfItem(atPath: sessionFile.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try FileManager.default.attributesOfItem(atPath: services.store.url.path)[.posixPermissions] as? Int == 0o600)

            await client.signOut()
            #expect(!FileManager.default.fileExists(atPath: sessionFile.path))
            #expect(!FileManager.default.fileExists(atPath: services.store.url.path))
            #expect(await client.session.current == nil)
            await #expect(throws: ClientError.notSignedIn) { _ = try await client.userServices() }
            // The server revoked it: the old refresh token no longer works.
            let replay = MentalSpaceClient(home: server.clientHome("replay"), secureStore: MemoryStore(try JSONEncoder().encode(session)))
            await #expect(throws: ClientError.sessionExpired) { try await replay.session.refresh() }
        }
    }

    @MainActor
    @Test func remindersFollowEverySyncAndTheBadgeCountsFiredOnes() async throws {
        try await withLiveServer { server in
            let client = MentalSpaceClient(home: server.clientHome())
            try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
            let services = try await client.userServices()
            let appointment = try #require(try await services.appointments.sync().appointments.first)
            // Synced two days before: both reminders lie ahead.
            let early = appointment.startsAt.addingTimeInterval(-48 * 3600)
            let snapshot = try await services.appointments.sync(now: early)
            let expected = ReminderPlanner.reminders(for: snapshot.appointments, now: early)
            let bell = NotificationsViewModel(notifier: services.notifier)
            await bell.load(now: early)
            #expect(bell.reminders.map(\.id) == expected.map(\.id))
            #expect(bell.reminders.contains { $0.id == "\(appointment.id)-24h" && $0.fireAt == appointment.startsAt.addingTimeInterval(-86400) })
            #expect(bell.reminders.contains { $0.id == "\(appointment.id)-1h" })
            #expect(bell.badgeCount == 0)
            #expect(bell.reminders.allSatisfy { !$0.body.contains("Smith") && !$0.body.contains(appointment.reason ?? "\u{0}") })
            // Thirty minutes before: both fired, two unread; opening the bell clears the badge, a re-sync keeps it clear.
            let soon = appointment.startsAt.addingTimeInterval(-1800)
            await bell.load(now: soon)
            #expect(bell.badgeCount == 2)
            await bell.markAllRead(now: soon)
            #expect(bell.badgeCount == 0)
            _ = try await services.appointments.sync(now: early)
            await bell.load(now: soon)
            #expect(bell.badgeCount == 0)
            // Signing out removes every reminder: the next person on this device gets none of them.
            await client.signOut()
            #expect(await services.notifier.scheduledReminders().isEmpty)
        }
    }

    @MainActor
    @Test func theServicesRemindersReplaceThePlannedOnesWhereItHasThem() async throws {
        try await withLiveServer { server in
            let client = MentalSpaceClient(home: server.clientHome())
            let info = try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
            let services = try await client.userServices()
            let therapist = try #require(try await services.appointments.sync().appointments.first?.therapistId)
            let patient = try #require(info.patientID)
            // A session in three hours (the service queues its 1-hour reminder now) and one in three days (not yet).
            let minute = (Date().timeIntervalSince1970 / 60).rounded(.up) * 60
            let soon = Date(timeIntervalSince1970: minute + 3 * 3600)
            let later = Date(timeIntervalSince1970: minute + 3 * 86_400)
            let smith = try await Self.accessToken(server, "dr.smith@demo.test")
            for start in [soon, later] {
                let booked = try await LiveClientFlowTests.request(
                    server, "POST", "/api/v1/appointments", token: smith,
                    json: [
                        "patientId": patient, "therapistId": therapist, "startsAt": ISO8601DateFormatter().string(from: start),
                        "endsAt": ISO8601DateFormatter().string(from: start.addingTimeInterval(3000)), "timeZone": "America/New_York",
                        "kind": "televisit",
                    ])
                #expect(booked == 201)
            }
            let john = try await Self.accessToken(server, "john.doe@demo.test")
            let queued = await LiveClientFlowTests.eventually(timeout: .seconds(15)) {
                ((try? await Self.reminderStarts(server, token: john)) ?? []).contains(soon)
            }
            #expect(queued, "the service queued no reminder")
            let appointments = try await services.appointments.sync().appointments
            let soonID = try #require(appointments.first { $0.startsAt == soon }?.id)
            let laterID = try #require(appointments.first { $0.startsAt == later }?.id)
            let scheduled = await services.notifier.scheduledReminders()
            let soonReminders = scheduled.filter { $0.appointmentId == soonID }
            #expect(soonReminders.map(\.id) == ["\(soonID)-1h"] && soonReminders.first?.fireAt == soon.addingTimeInterval(-3600))
            #expect(soonReminders.first?.body == "You have an appointment in 1 hour.", "the service's reminder: \(soonReminders)")
            let laterReminders = scheduled.filter { $0.appointmentId == laterID }
            #expect(laterReminders.map(\.id) == ["\(laterID)-24h", "\(laterID)-1h"] && laterReminders.allSatisfy { $0.title == "Upcoming video session" })

            // John switches push off: the next sync schedules nothing on the phone.
            let off = try await LiveClientFlowTests.request(server, "PATCH", "/api/v1/notification-preferences", token: john, json: ["push": false])
            #expect(off == 200)
            _ = try await services.appointments.sync()
            #expect(await services.notifier.scheduledReminders().isEmpty)
        }
    }

    /// The appointment starts the service holds reminders for.
    static func reminderStarts(_ server: LiveServer, token: String) async throws -> [Date] {
        var request = URLRequest(url: URL(string: server.url.absoluteString + "/api/v1/reminders")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        let items = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        return items.compactMap { ($0["appointmentStartsAt"] as? String).flatMap(LiveFrame.date) }
    }

    @MainActor
    @Test func chatGoesThroughTheServiceQueuesOfflineAndShowsReadReceipts() async throws {
        try await withLiveServer { server in
            let client = MentalSpaceClient(home: server.clientHome())
            let info = try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: Self.password)
            let chat = ChatViewModel(chat: try await client.userServices().chat)
            await chat.load()
            #expect(chat.error == nil && chat.channel?.title == "Dr. Sarah Smith", "\(String(describing: chat.error))")
            #expect(chat.messages.count == 1 && chat.messages.first?.senderId != info.userID, "the demo's message from Dr. Smith")
            #expect(chat.messages.first?.delivery == .delivered, "receipts show on one's own messages only")
            chat.draft = "   "
            await chat.send()
            #expect(chat.error == .invalidRequest("A message cannot be empty."))
            let sent = try await client.userServices().chat.send("Is the 3pm slot free?")
            #expect(sent.delivery == .delivered, "online, send answers with the message as the server stored it")
            chat.draft = "Can we move Thursday to 3pm?"
            await chat.send()
            #expect(chat.error == nil && chat.draft.isEmpty)
            @MainActor func mine() -> [ChatMessage] { chat.messages.filter { $0.senderId == info.userID } }
            #expect(mine().map(\.text) == ["Is the 3pm slot free?", "Can we move Thursday to 3pm?"] && mine().allSatisfy { $0.delivery == .delivered })

            // Dr. Smith reads the thread on the server: John sees the receipt.
            let threadID = try #require(chat.channel?.id)
            let smith = try await Self.accessToken(server, "dr.smith@demo.test")
            #expect(try await Self.post(server, "/api/v1/threads/\(threadID)/read", token: smith) == 200)
            await chat.load()
            #expect(mine().map(\.delivery) == [.read, .read])

            // Offline: the message waits on the phone, and is sent once when the server is back.
            await server.stop()
            chat.draft = "Written on the train"
            await chat.send()
            #expect(chat.error == nil && mine().last?.delivery == .queued, "\(mine())")
            try await server.start()
            await chat.load()
            #expect(mine().map(\.text) == ["Is the 3pm slot free?", "Can we move Thursday to 3pm?", "Written on the train"])
            #expect(mine().last?.delivery == .delivered)
            await chat.load()
            let onServer = try await Self.messageBodies(server, threadID, token: smith)
            #expect(onServer.filter { $0 == "Written on the train" }.count == 1, "sent exactly once: \(onServer)")
        }
    }

    static func accessToken(_ server: LiveServer, _ email: String) async throws -> String {
        var request = URLRequest(url: server.url.appendingPathComponent("api/v1/auth/login"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["tenant": "demo", "email": email, "password": password])
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["accessToken"] as? String)
    }

    static func post(_ server: LiveServer, _ path: String, token: String) async throws -> Int {
        var request = URLRequest(url: URL(string: server.url.absoluteString + path)!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func messageBodies(_ server: LiveServer, _ threadID: String, token: String) async throws -> [String] {
        var request = URLRequest(url: URL(string: server.url.absoluteString + "/api/v1/threads/\(threadID)/messages?limit=100")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        let items = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        return items.compactMap { $0["body"] as? String }
    }
}

/// A secure store in memory, to replay a copied session in a second client.
final class MemoryStore: SecureStore, @unchecked Sendable {
    private var data: Data?
    init(_ data: Data?) { self.data = data }
    func read() throws -> Data? { data }
    func write(_ data: Data) throws { self.data = data }
    func delete() throws { data = nil }
}
