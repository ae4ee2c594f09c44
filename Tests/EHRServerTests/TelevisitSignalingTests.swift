import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import EHRServer

/// `/api/v1/televisit`: the therapist and the client of a televisit join its room with their join tokens, the
/// client waits until admitted, and offers, answers and ICE candidates go between exactly those two, across two
/// instances on one PostgreSQL; every other token is refused, and the room closes at the appointment's end.
@Suite("Televisit signaling", .serialized)
struct TelevisitSignalingTests {
    let demo = TestWorld.demo

    @Test(arguments: TestBackend.all)
    func theTwoParticipantsMeetAfterTheWaitingRoomAcrossInstances(_ backend: TestBackend) async throws {
        try await withWorld(backend, configure: Self.withTurn) { world in
            let smithToken = try await joinToken(world, .smith, demo.johnAppointment)
            let johnToken = try await joinToken(world, .john, demo.johnAppointment)
            try await world.withSecondInstance { secondPort in
                // John arrives first, on the first instance, and waits.
                let john = try await TelevisitTestSocket.join(port: world.port, token: johnToken)
                defer { john.close() }
                #expect(john.joined["role"] as? String == "client" && john.joined["admitted"] as? Bool == false)
                #expect(john.joined["peer"] as? String == "absent")
                let iceServers = try #require(john.joined["iceServers"] as? [[String: Any]])
                let turn = try #require(iceServers.first { $0["username"] != nil }, "\(iceServers)")
                let username = try #require(turn["username"] as? String)
                #expect(turn["credential"] as? String == TurnCredentials.password(username, secret: Self.turnSecret))
                #expect(!username.contains(demo.johnUser.wire), "the TURN username says nothing of who holds it")

                // Dr. Smith joins through the second instance and sees John waiting; John hears the therapist came.
                let smith = try await TelevisitTestSocket.join(port: secondPort, token: smithToken)
                defer { smith.close() }
                #expect(smith.joined["role"] as? String == "therapist" && smith.joined["peer"] as? String == "waiting")
                #expect(smith.joined["roomId"] as? String == john.joined["roomId"] as? String)
                #expect(await john.socket.next(type: "peer")?["state"] as? String == "joined")

                // Nothing passes the waiting room, either way.
                john.socket.send(["type": "signal", "kind": "offer", "data": ["type": "offer", "sdp": "v=0"]])
                #expect(await john.socket.next(type: "error")?["code"] as? String == "waiting")
                smith.socket.send(["type": "signal", "kind": "offer", "data": ["type": "offer", "sdp": "v=0"]])
                #expect(await smith.socket.next(type: "error")?["code"] as? String == "peer-not-ready")
                john.socket.send(["type": "admit"])
                #expect(await john.socket.next(type: "error")?["code"] as? String == "forbidden")

                smith.socket.send(["type": "admit"])
                #expect(await john.socket.next(type: "admitted") != nil, "\(john.socket.frames)")
                #expect(await smith.socket.next(type: "peer")?["state"] as? String == "joined")

                // An offer longer than one NOTIFY (8,000 bytes) arrives whole; the answer and candidates go back and forth.
                // What crosses PostgreSQL is sealed: a listener of the channel sees parts, never the description.
                let overheard = NIOLockedValueBox<[String]>([])
                let database = world.services.database
                let (listening, nowListening) = AsyncStream<Void>.makeStream()
                let eavesdropper = Task {
                    try await database.listen(channel: "ehr_live", logger: Logger(label: "test"), listening: { nowListening.yield() }) { payload in
                        overheard.withLockedValue { $0.append(payload) }
                    }
                }
                defer { eavesdropper.cancel() }
                // Its LISTEN must be in place before the offer (a fixed pause was too short on a loaded machine).
                if case .postgres = backend {
                    var ready = listening.makeAsyncIterator()
                    _ = await ready.next()
                }
                let sdp = Self.sessionDescription(bytes: 20_000)
                smith.socket.send(["type": "signal", "kind": "offer", "data": ["type": "offer", "sdp": sdp]])
                let offer = try #require(await john.socket.next(type: "signal"), "\(john.socket.frames) \(smith.socket.frames)")
                #expect(offer["from"] as? String == "therapist" && offer["kind"] as? String == "offer")
                #expect((offer["data"] as? [String: Any])?["sdp"] as? String == sdp)
                if case .postgres = backend {
                    // The eavesdropper hears the parts about when the relay does: wait for them rather than race it.
                    let deadline = ContinuousClock.now + .seconds(10)
                    while overheard.withLockedValue({ $0.count }) < 4, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    let payloads = overheard.withLockedValue { $0 }
                    #expect(payloads.count >= 4 && payloads.allSatisfy { $0.utf8.count < 8000 }, "\(payloads.map(\.utf8.count))")
                    let leaked = payloads.contains { $0.contains("candidate") || $0.contains("192.0.2.") }
                    #expect(!leaked, "a session description crossed NOTIFY in the clear")
                }
                john.socket.send(["type": "signal", "kind": "answer", "data": ["type": "answer", "sdp": "v=0 answer"]])
                let answer = try #require(await smith.socket.next(type: "signal"))
                #expect(answer["from"] as? String == "client" && (answer["data"] as? [String: Any])?["sdp"] as? String == "v=0 answer")
                for index in 0..<5 {
                    let candidate = ["candidate": "candidate:\(index) 1 udp 2122260223 192.0.2.\(index) 5\(index)000 typ host", "sdpMid": "0"]
                    john.socket.send(["type": "signal", "kind": "ice", "data": candidate])
                    let relayed = try #require(await smith.socket.next(type: "signal"))
                    #expect((relayed["data"] as? [String: Any])?["candidate"] as? String == candidate["candidate"], "in order")
                }

                // Bad signals are refused with a reason, and the socket stays.
                smith.socket.send(["type": "signal", "kind": "media", "data": [:]])
                #expect(await smith.socket.next(type: "error")?["code"] as? String == "bad-signal")
                smith.socket.send(["type": "signal", "kind": "offer", "data": ["sdp": String(repeating: "a", count: 40_000)]])
                #expect(await smith.socket.next(type: "error")?["code"] as? String == "too-large")

                // John leaves: Dr. Smith hears it.
                john.socket.send(["type": "leave"])
                #expect(await john.socket.closeCode() == 1000)
                #expect(await smith.socket.next(type: "peer")?["state"] as? String == "left")
            }
            let events = try await world.storedEvents().filter { $0.action.hasPrefix("televisit.") }
            for (actor, action) in [
                (demo.johnUser, "televisit.join"), (demo.smith, "televisit.join"), (demo.smith, "televisit.admit"), (demo.johnUser, "televisit.leave"),
            ] {
                let recorded = events.contains {
                    $0.actor_id == actor.wire && $0.action == action && $0.patient_id == demo.john.wire && $0.outcome == "allowed"
                }
                #expect(recorded, "\(action) by \(actor)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func everyOtherTokenIsRefusedAndASecondDeviceReplacesTheFirst(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let smithToken = try await joinToken(world, .smith, demo.johnAppointment)
            let johnToken = try await joinToken(world, .john, demo.johnAppointment)
            try await world.withSecondInstance { secondPort in
                let smith = try await TelevisitTestSocket.join(port: world.port, token: smithToken)
                let john = try await TelevisitTestSocket.join(port: secondPort, token: johnToken)
                defer {
                    smith.close()
                    john.close()
                }
                // Dr. Smith hears John arrive (from the other instance), admits him, and hears him come in.
                #expect(await smith.socket.next(type: "peer")?["state"] as? String == "waiting")
                smith.socket.send(["type": "admit"])
                #expect(await john.socket.next(type: "admitted") != nil)
                #expect(await smith.socket.next(type: "peer")?["state"] as? String == "joined")
                let roomID = try #require(smith.joined["roomId"] as? String)
                let heardBefore = smith.socket.frames.count

                // Validly signed tokens for this very room, held by people who are not its participants: another
                // therapist of the practice, its admin, the other practice's therapist and client.
                let tokens = world.services.tokens
                var refused: [(String, String, UInt16)] = []
                for (account, practice) in [
                    (TestWorld.Account.johnson, demo), (.admin, demo), (.jane, demo), (.smith, TestWorld.other), (.john, TestWorld.other),
                ] {
                    let principal = Principal(userID: account.userID(in: practice), tenantID: practice.tenantID, role: account.role)
                    let token = try await tokens.issueTelevisitToken(for: principal, roomID: roomID, appointmentID: demo.johnAppointment, lifetime: 600)
                    refused.append(("\(account) of \(practice.slug)", token, 4404))
                }
                let smithPrincipal = Principal(userID: demo.smith, tenantID: demo.tenantID, role: .therapist)
                let expired = try await tokens.issueTelevisitToken(
                    for: smithPrincipal, roomID: roomID, appointmentID: demo.johnAppointment, lifetime: 600, now: Date().addingTimeInterval(-3600))
                let otherRoom = try await tokens.issueTelevisitToken(
                    for: smithPrincipal, roomID: "0123456789abcdef01234567", appointmentID: demo.johnAppointment, lifetime: 600)
                refused += [
                    ("expired", expired, 4401), ("an access token", try await world.token(.smith), 4401), ("garbage", "a.b.c", 4401),
                    ("another room's name", otherRoom, 4404),
                ]
                for (name, token, code) in refused {
                    let intruder = TelevisitTestSocket.raw(port: secondPort)
                    intruder.send(["type": "join", "joinToken": token])
                    #expect(await intruder.closeCode() == code, "\(name): \(intruder.frames)")
                    let joined = intruder.frames.contains { $0["type"] as? String == "joined" }
                    #expect(!joined, "\(name)")
                }
                // Nobody can speak before joining, and a frame that is not JSON closes the socket.
                let early = TelevisitTestSocket.raw(port: world.port)
                early.send(["type": "signal", "kind": "offer", "data": [:]])
                #expect(await early.closeCode() == 4401)
                let garbage = TelevisitTestSocket.raw(port: world.port)
                garbage.sendText("not json")
                #expect(await garbage.closeCode() == 4400)
                #expect(try await world.call(.get, TelevisitSocket.path).status.code == 426)

                // The two in the room heard none of it.
                smith.socket.send(["type": "ping"])
                #expect(await smith.socket.next(type: "pong") != nil)
                let heard = smith.socket.frames.dropFirst(heardBefore).map { $0["type"] as? String }
                #expect(heard == ["pong"], "\(heard)")

                // John on a second device takes his seat: the first socket is told and closed, and he waits again.
                let johnAgain = try await TelevisitTestSocket.join(port: world.port, token: try await joinToken(world, .john, demo.johnAppointment))
                defer { johnAgain.close() }
                #expect(await john.socket.next(type: "replaced") != nil, "\(john.socket.frames)")
                #expect(await john.socket.closeCode() == 4409)
                #expect(johnAgain.joined["admitted"] as? Bool == false)
                #expect(await smith.socket.next(type: "peer")?["state"] as? String == "waiting")
                smith.socket.send(["type": "signal", "kind": "offer", "data": ["sdp": "v=0"]])
                #expect(await smith.socket.next(type: "error")?["code"] as? String == "peer-not-ready")
            }
            let denied = try await world.storedEvents().filter { $0.action == "televisit.join" && $0.outcome == "denied" }
            let johnsonDenied = denied.contains { $0.actor_id == demo.johnson.wire && $0.patient_id == demo.john.wire }
            #expect(johnsonDenied)
        }
    }

    /// Notices from the other instance cross PostgreSQL and may arrive late: a "waiting" of the client the therapist
    /// has already admitted (the admit can overtake it) and a "left" of a connection no longer in the seat change
    /// nothing and are not shown.
    @Test(arguments: TestBackend.all)
    func aLateNoticeDoesNotUndoTheAdmission(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let smith = try await TelevisitTestSocket.join(port: world.port, token: try await joinToken(world, .smith, demo.johnAppointment))
            let john = try await TelevisitTestSocket.join(port: world.port, token: try await joinToken(world, .john, demo.johnAppointment))
            defer {
                smith.close()
                john.close()
            }
            #expect(await smith.socket.next(type: "peer")?["state"] as? String == "waiting")
            smith.socket.send(["type": "admit"])
            #expect(await john.socket.next(type: "admitted") != nil)
            #expect(await smith.socket.next(type: "peer")?["state"] as? String == "joined")

            let roomID = try #require(smith.joined["roomId"] as? String)
            let store = world.services.store
            let (therapistSeat, clientSeat) = try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                (
                    try await store.seat(tenantID: demo.tenantID, roomID: roomID, role: .therapist, now: Date()),
                    try await store.seat(tenantID: demo.tenantID, roomID: roomID, role: .client, now: Date())
                )
            }
            let to = try #require(therapistSeat?.connectionID)
            let client = try #require(clientSeat?.connectionID)
            func notice(from: UUID, present: Bool, admitted: Bool) -> TelevisitEnvelope {
                TelevisitEnvelope(
                    event: .peer, tenantID: demo.tenantID, roomID: roomID, to: to, from: from, fromRole: .client, present: present, admitted: admitted)
            }
            // The late notices, then a current one; one relay after the other, so they arrive in this order.
            #expect(await world.services.relay(notice(from: client, present: true, admitted: false)))
            #expect(await world.services.relay(notice(from: UUID(), present: false, admitted: false)))
            #expect(await world.services.relay(notice(from: client, present: true, admitted: true)))
            #expect(await smith.socket.next(type: "peer")?["state"] as? String == "joined", "\(smith.socket.frames)")

            // Dr. Smith still sees John in the room: the offer reaches him.
            smith.socket.send(["type": "signal", "kind": "offer", "data": ["type": "offer", "sdp": "v=0"]])
            let offer = await john.socket.next(type: "signal")
            #expect(offer?["from"] as? String == "therapist", "\(smith.socket.frames)")
        }
    }

    @Test(arguments: TestBackend.all)
    func theRoomClosesAtTheAppointmentsEnd(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // A session that began 50 minutes ago and ends in three seconds.
            let now = Date()
            let ending = Appointment(
                tenantID: demo.tenantID, patientID: demo.john, therapistID: demo.smith, startsAt: now.addingTimeInterval(-50 * 60 + 3),
                endsAt: now.addingTimeInterval(3), timeZone: "America/New_York", kind: .televisit, reason: "Ending soon")
            try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) { try await world.services.store.create(ending) }
            let smith = try await TelevisitTestSocket.join(port: world.port, token: try await joinToken(world, .smith, ending.id))
            let johnToken = try await joinToken(world, .john, ending.id)
            defer { smith.close() }
            #expect(await smith.socket.next(type: "closed", timeout: .seconds(10))?["reason"] as? String == "the appointment has ended")
            #expect(await smith.socket.closeCode() == 4410)
            // Once it ended, nobody joins, not even with a join token issued before.
            let late = TelevisitTestSocket.raw(port: world.port)
            late.send(["type": "join", "joinToken": johnToken])
            #expect(await late.closeCode() == 4410, "\(late.frames)")
        }
    }

    @Test(arguments: TestBackend.all)
    func aDeactivatedAccountLeavesTheRoomAndItsTokensAdmitNobody(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let john = try await TelevisitTestSocket.join(port: world.port, token: try await joinToken(world, .john, demo.johnAppointment))
            let spare = try await joinToken(world, .john, demo.johnAppointment)
            defer { john.close() }
            let off = try await world.call(.patch, "/api/v1/users/\(demo.johnUser.wire)", as: .admin, json: ["active": false])
            #expect(off.status == .ok, "\(off.text)")
            // Within one renewal of the seat (10 seconds) the socket is closed.
            #expect(await john.socket.next(type: "closed", timeout: .seconds(15))?["reason"] as? String == "the room is closed", "\(john.socket.frames)")
            #expect(await john.socket.closeCode() == 4410)
            let late = TelevisitTestSocket.raw(port: world.port)
            late.send(["type": "join", "joinToken": spare])
            #expect(await late.closeCode() == 4404, "\(late.frames)")
        }
    }

    @Test(arguments: TestBackend.all)
    func aJoinTheAuditLogCannotRecordIsRefused(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let start = try await world.call(.post, "/api/v1/appointments/\(demo.johnAppointment.wire)/startTelevisit", as: .john)
            let token = try #require(start.json["joinToken"] as? String)
            let roomID = try #require(start.json["roomId"] as? String)
            // The audit log refuses every event (as a full disk or a lost database would).
            let sql = world.services.database.sql
            let postgres = world.services.database.dialect == .postgres
            if postgres {
                // As the owner (statements otherwise run as the service role), for this transaction only.
                try await world.services.database.transaction { db in
                    try await db.raw("SELECT set_config('role', session_user::text, true)").run()
                    try await db.raw(
                        "CREATE FUNCTION test_audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit down'; END $$"
                    ).run()
                    try await db.raw("CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_inbox FOR EACH ROW EXECUTE FUNCTION test_audit_down()").run()
                }
            } else {
                try await sql.raw("CREATE TRIGGER test_audit_down BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit down'); END").run()
            }
            let refused = TelevisitTestSocket.raw(port: world.port)
            refused.send(["type": "join", "joinToken": token])
            #expect(await refused.closeCode() == 1011, "\(refused.frames)")
            #expect(refused.frames.first?["code"] as? String == "unavailable" && !refused.frames.contains { $0["type"] as? String == "joined" })
            let seat = try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                try await world.services.store.seat(tenantID: demo.tenantID, roomID: roomID, role: .client, now: Date())
            }
            #expect(seat == nil, "the seat was given back")
            // The log works again: the same token joins.
            if postgres {
                try await world.services.database.transaction { db in
                    try await db.raw("SELECT set_config('role', session_user::text, true)").run()
                    try await db.raw("DROP TRIGGER test_audit_down ON audit_inbox").run()
                }
            } else {
                try await sql.raw("DROP TRIGGER test_audit_down").run()
            }
            let john = try await TelevisitTestSocket.join(port: world.port, token: token)
            john.close()
        }
    }

    @Test(arguments: TestBackend.all)
    func aSeatIsOneSocketsEvenWhenJoinsRace(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let store = world.services.store
            let tenantID = demo.tenantID
            let now = Date()
            func seat(_ user: UUID, room: String) -> TelevisitSeat {
                TelevisitSeat(
                    tenantID: tenantID, roomID: room, role: .therapist, appointmentID: demo.johnAppointment, userID: user,
                    connectionID: UUID(), admitted: true, joinedAt: now, leaseUntil: now.addingTimeInterval(30))
            }
            let users = TestWorld.Account.allCases.map { $0.userID(in: demo) }
            try await DatabaseScope.$current.withValue(.tenant(tenantID)) {
                // Each round, every user of the practice races for one fresh seat: exactly one gets it.
                for round in 0..<10 {
                    let room = "race-room-\(round)"
                    let outcomes = try await withThrowingTaskGroup(of: SeatClaim.self) { group in
                        for user in users { group.addTask { try await store.takeSeat(seat(user, room: room), now: now) } }
                        return try await group.reduce(into: [SeatClaim]()) { $0.append($1) }
                    }
                    let seated = outcomes.filter { $0 == .seated(replaced: nil) }.count
                    let occupied = outcomes.filter { $0 == .occupied }.count
                    #expect(seated == 1 && occupied == users.count - 1, "round \(round): \(outcomes)")
                }
                // A lease that ran out (its server died) is taken over, and the old socket is named; its renewal then fails.
                let stale = TelevisitSeat(
                    tenantID: tenantID, roomID: "stale-room", role: .client, appointmentID: demo.johnAppointment, userID: demo.johnUser,
                    connectionID: UUID(), admitted: true, joinedAt: now.addingTimeInterval(-60), leaseUntil: now.addingTimeInterval(-1))
                #expect(try await store.takeSeat(stale, now: now.addingTimeInterval(-60)) == .seated(replaced: nil))
                var fresh = seat(demo.janeUser, room: "stale-room")
                fresh.role = .client
                #expect(try await store.takeSeat(fresh, now: now) == .seated(replaced: stale.connectionID))
                #expect(try await !store.renewSeat(connectionID: stale.connectionID, tenantID: tenantID, until: now.addingTimeInterval(30)))
                #expect(try await store.seat(tenantID: tenantID, roomID: "stale-room", role: .client, now: now)?.admitted == true)
                // Not from another practice: row-level security and the tenant key keep it out of sight.
                #expect(try await store.seat(tenantID: TestWorld.other.tenantID, roomID: "stale-room", role: .client, now: now) == nil)
            }
        }
    }

    // MARK: Helpers

    static let turnSecret = "test-turn-secret-" + String(repeating: "x", count: 24)

    @Sendable static func withTurn(_ configuration: inout AppConfiguration) {
        configuration.turnURLs = ["stun:turn.test:3478", "turn:turn.test:3478?transport=udp"]
        configuration.turnSecret = turnSecret
    }

    private func joinToken(_ world: TestWorld, _ account: TestWorld.Account, _ appointment: UUID) async throws -> String {
        let reply = try await world.call(.post, "/api/v1/appointments/\(appointment.wire)/startTelevisit", as: account)
        #expect(reply.status == .ok, "\(reply.text)")
        return try #require(reply.json["joinToken"] as? String)
    }

    /// A session description of about `bytes` bytes, with the CRLF line ends and characters JSON escapes.
    static func sessionDescription(bytes: Int) -> String {
        var sdp = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        var index = 0
        while sdp.utf8.count < bytes {
            sdp += "a=candidate:\(index) 1 udp 2122260223 192.0.2.\(index % 250) \(50_000 + index) typ host generation 0 \"q\\\"\r\n"
            index += 1
        }
        return sdp
    }
}

/// A televisit socket that joined: the socket and the `joined` frame it got.
struct TelevisitTestSocket {
    let socket: LiveTestSocket
    let joined: [String: Any]

    static func raw(port: Int) -> LiveTestSocket { LiveTestSocket(port: port, path: TelevisitSocket.path) }

    static func join(port: Int, token: String) async throws -> TelevisitTestSocket {
        let socket = raw(port: port)
        socket.send(["type": "join", "joinToken": token])
        guard let joined = await socket.next(type: "joined") else { throw LiveTestError.notReady("\(socket.frames)") }
        return TelevisitTestSocket(socket: socket, joined: joined)
    }

    func close() { socket.close() }
}
