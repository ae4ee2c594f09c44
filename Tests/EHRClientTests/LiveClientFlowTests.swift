import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import EHRClient

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The client core's live socket against the real server: messages, receipts and appointment changes reach the
/// view models as they happen; the access token is renewed over the socket; a dropped socket comes back and
/// tells the app to fetch what it missed.
@Suite("Client live events against the real server", .serialized)
struct LiveClientFlowTests {
    @MainActor
    @Test func messagesReceiptsAndAppointmentChangesArriveLiveAndTheSocketComesBack() async throws {
        // Access tokens of 16 seconds: the socket must renew its token over itself to stay open.
        try await withLiveServer(accessTokenLifetime: 16) { server in
            let client = MentalSpaceClient(home: server.clientHome(), refreshMargin: 3, liveConnector: NIOLiveConnector())
            let info = try await client.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: ClientFlowTests.password)
            let services = try await client.userServices()
            let chat = ChatViewModel(chat: services.chat)
            let appointments = AppointmentListViewModel(store: services.appointments)
            await chat.load()
            await appointments.refresh()
            let heard = NIOLockedValueBox<[LiveEvent]>([])
            let recorder = Task {
                for await event in await services.live.events() { heard.withLockedValue { $0.append(event) } }
            }
            let chatListener = Task { await chat.listen(services.live) }
            let appointmentListener = Task { await appointments.listen(services.live) }
            defer {
                recorder.cancel()
                chatListener.cancel()
                appointmentListener.cancel()
            }
            #expect(await Self.eventually { await services.live.isConnected }, "the live socket did not open")
            let threadID = try #require(chat.channel?.id)
            // Tokens live 16 seconds here: each call signs in afresh.
            func smith() async throws -> String { try await ClientFlowTests.accessToken(server, "dr.smith@demo.test") }

            // Dr. Smith writes: John's thread shows it without a reload.
            #expect(
                try await Self.request(server, "POST", "/api/v1/threads/\(threadID)/messages", token: try await smith(), json: ["body": "See you at 3."]) == 201
            )
            #expect(await Self.eventually { chat.messages.contains { $0.text == "See you at 3." && $0.delivery == .delivered } }, "\(chat.messages)")

            // John writes; Dr. Smith reads it: the receipt turns John's message to read.
            chat.draft = "Thank you!"
            await chat.send()
            #expect(chat.messages.last?.delivery == .delivered)
            #expect(try await Self.request(server, "POST", "/api/v1/threads/\(threadID)/read", token: try await smith()) == 200)
            #expect(await Self.eventually { chat.messages.last { $0.senderId == info.userID }?.delivery == .read }, "\(chat.messages)")

            // The practice changes John's appointment: the list reloads by itself.
            guard case .loaded(let before) = appointments.state, let appointment = before.appointments.first else {
                Issue.record("no appointments: \(appointments.state)")
                return
            }
            let admin = try await ClientFlowTests.accessToken(server, "admin@demo.test")
            #expect(try await Self.request(server, "PATCH", "/api/v1/appointments/\(appointment.id)", token: admin, json: ["reason": "Room 2"]) == 200)
            #expect(
                await Self.eventually {
                    guard case .loaded(let now) = appointments.state else { return false }
                    return now.appointments.first { $0.id == appointment.id }?.reason == "Room 2"
                }, "\(appointments.state)")

            // Past two token lifetimes the socket still delivers: it renewed its token over itself.
            try await Task.sleep(for: .seconds(33))
            #expect(
                try await Self.request(server, "POST", "/api/v1/threads/\(threadID)/messages", token: try await smith(), json: ["body": "Still there?"]) == 201)
            #expect(await Self.eventually { chat.messages.contains { $0.text == "Still there?" } }, "the socket closed at its token's end")
            #expect(!heard.withLockedValue { $0 }.contains(.resync), "no reconnect so far: \(heard.withLockedValue { $0 })")

            // The server restarts: the socket comes back and the app is told to resync; a message written while it
            // was away is in the thread afterwards.
            await server.stop()
            try await server.start()
            #expect(
                try await Self.request(server, "POST", "/api/v1/threads/\(threadID)/messages", token: try await smith(), json: ["body": "Back online."]) == 201)
            #expect(await Self.eventually(timeout: .seconds(20)) { heard.withLockedValue { $0 }.contains(.resync) }, "no resync after the restart")
            #expect(await Self.eventually { chat.messages.contains { $0.text == "Back online." } }, "\(chat.messages)")

            // Signing out closes the socket and ends the streams.
            await client.signOut()
            #expect(await Self.eventually { await !services.live.isConnected })
        }
    }

    @MainActor
    @Test func aVideoVisitGoesThroughTheWaitingRoomAndRelaysSignalsBetweenTheTwo() async throws {
        try await withLiveServer { server in
            let john = MentalSpaceClient(home: server.clientHome("john"), liveConnector: NIOLiveConnector())
            try await john.signIn(server: server.url, tenant: "demo", email: "john.doe@demo.test", password: ClientFlowTests.password)
            let smith = MentalSpaceClient(home: server.clientHome("smith"), liveConnector: NIOLiveConnector())
            try await smith.signIn(server: server.url, tenant: "demo", email: "dr.smith@demo.test", password: ClientFlowTests.password)
            let appointment = try #require(try await john.userServices().appointments.sync().appointments.first { $0.isVideoSession })

            let johnVisit = VideoVisitViewModel(visit: john.videoVisit)
            let smithVisit = VideoVisitViewModel(visit: smith.videoVisit)
            var johnHeard: [VideoVisitSignal] = []
            var smithHeard: [VideoVisitSignal] = []
            johnVisit.onSignal = { johnHeard.append($0) }
            smithVisit.onSignal = { smithHeard.append($0) }
            let johnRoom = Task { await johnVisit.join(appointmentID: appointment.id) }
            #expect(await Self.eventually { johnVisit.state == .waiting }, "\(johnVisit.state)")
            #expect(johnVisit.role == "client")
            let smithRoom = Task { await smithVisit.join(appointmentID: appointment.id) }
            defer {
                johnRoom.cancel()
                smithRoom.cancel()
            }
            #expect(await Self.eventually { smithVisit.state == .inRoom(peer: .waiting) }, "\(smithVisit.state)")
            #expect(smithVisit.role == "therapist")

            // Nothing crosses the waiting room; once admitted, signals go both ways.
            await johnVisit.send(VideoVisitSignal(kind: .offer, fields: ["type": "offer", "sdp": "v=0"]))
            #expect(await Self.eventually { johnVisit.notice == "wait until the therapist admits you" }, "\(String(describing: johnVisit.notice))")
            await smithVisit.admit()
            #expect(await Self.eventually { johnVisit.state == .inRoom(peer: .joined) && smithVisit.state == .inRoom(peer: .joined) })
            let offer = VideoVisitSignal(kind: .offer, fields: ["type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"])
            await smithVisit.send(offer)
            #expect(await Self.eventually { johnHeard == [offer] }, "\(johnHeard)")
            let answer = VideoVisitSignal(kind: .answer, fields: ["type": "answer", "sdp": "v=0 answer"])
            let candidate = VideoVisitSignal(
                kind: .ice, fields: ["candidate": "candidate:1 1 udp 1 192.0.2.1 5000 typ host", "sdpMid": "0", "sdpMLineIndex": "0"])
            await johnVisit.send(answer)
            await johnVisit.send(candidate)
            #expect(await Self.eventually { smithHeard == [answer, candidate] }, "\(smithHeard)")
            #expect(smithHeard.isEmpty == false && johnHeard.count == 1, "nothing was held back in the waiting room and replayed")

            // John leaves: Dr. Smith sees it; John's room has ended.
            await johnVisit.leave()
            #expect(await Self.eventually { smithVisit.state == .inRoom(peer: .left) }, "\(smithVisit.state)")
            #expect(await Self.eventually { if case .ended = johnVisit.state { true } else { false } }, "\(johnVisit.state)")

            // Dr. Johnson has no video session with John: refused before any socket opens.
            let johnson = MentalSpaceClient(home: server.clientHome("johnson"), liveConnector: NIOLiveConnector())
            try await johnson.signIn(server: server.url, tenant: "demo", email: "dr.johnson@demo.test", password: ClientFlowTests.password)
            let intruder = VideoVisitViewModel(visit: johnson.videoVisit)
            await intruder.join(appointmentID: appointment.id)
            #expect(intruder.state == .failed(.invalidRequest("This appointment has no video session for you.")), "\(intruder.state)")
        }
    }

    /// Waits until `condition` holds (polling), up to `timeout`.
    @MainActor
    static func eventually(timeout: Duration = .seconds(8), _ condition: @MainActor () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }

    static func request(_ server: LiveServer, _ method: String, _ path: String, token: String, json: [String: Any]? = nil) async throws -> Int {
        var request = URLRequest(url: URL(string: server.url.absoluteString + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
