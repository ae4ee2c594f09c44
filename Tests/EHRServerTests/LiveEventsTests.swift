import EHRDomain
import Foundation
import HTTPTypes
import Testing

@testable import EHRServer

/// `/api/v1/live`: messages, read receipts and appointment changes reach the participants' sockets as they happen,
/// across two instances on one PostgreSQL (LISTEN/NOTIFY), and nobody else's; the socket signs in with its first
/// frame and ends with its token.
@Suite("Live events", .serialized)
struct LiveEventsTests {
    let demo = TestWorld.demo

    @Test(arguments: TestBackend.all)
    func messagesReceiptsAndAppointmentChangesArriveLiveAcrossInstances(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(
                try await world.call(.post, "/api/v1/threads", as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            try await world.withSecondInstance { secondPort in
                // Dr. Smith listens on the second instance, John on the first.
                let smith = try await LiveTestSocket.signedIn(port: secondPort, token: try await world.token(.smith))
                let john = try await LiveTestSocket.signedIn(port: world.port, token: try await world.token(.john))
                defer {
                    smith.close()
                    john.close()
                }
                let sent = try await world.call(
                    .post, "/api/v1/threads/\(thread)/messages", as: .john, json: ["body": "Running ten minutes late, sorry!"])
                #expect(sent.status == .created)
                let live = try #require(await smith.next(type: "message"), "no message frame: \(smith.frames)")
                let message = try #require(live["message"] as? [String: Any])
                #expect(message["body"] as? String == "Running ten minutes late, sorry!")
                #expect(message["id"] as? String == sent.json["id"] as? String && message["threadId"] as? String == thread)
                #expect(message["senderId"] as? String == demo.johnUser.wire)

                // Dr. Smith reads it (through the second instance): John's socket gets the receipt.
                let read = try await world.call(.post, "/api/v1/threads/\(thread)/read", token: try await world.token(.smith))
                #expect(read.status == .ok)
                let receipt = try #require(await john.next(type: "read"), "no read frame: \(john.frames)")
                #expect(receipt["threadId"] as? String == thread && receipt["userId"] as? String == demo.smith.wire)

                // The practice moves John's appointment: both hear of it and read it again through the API.
                let moved = try await world.call(
                    .patch, "/api/v1/appointments/\(demo.johnAppointment.wire)", as: .admin, json: ["reason": "Moved by the front desk"])
                #expect(moved.status == .ok, "\(moved.text)")
                for socket in [smith, john] {
                    let change = try #require(await socket.next(type: "appointment"))
                    #expect(change["appointmentId"] as? String == demo.johnAppointment.wire && change["change"] as? String == "updated")
                    #expect(change["reason"] == nil, "the frame names the change, not the record")
                }
            }
            // The delivery of the body to Dr. Smith's socket is a read of John's thread, in the audit log.
            let deliveries = try await world.storedEvents().filter { $0.action == "message.deliver" }
            #expect(deliveries.contains { $0.actor_id == demo.smith.wire && $0.patient_id == demo.john.wire && $0.outcome == "allowed" })
        }
    }

    @Test(arguments: TestBackend.all)
    func nobodyElseHearsAThread(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(
                try await world.call(.post, "/api/v1/threads", as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            try await world.withSecondInstance { secondPort in
                var outsiders: [LiveTestSocket] = []
                for (account, practice) in [
                    (TestWorld.Account.admin, demo), (.johnson, demo), (.jane, demo), (.smith, TestWorld.other), (.john, TestWorld.other),
                ] {
                    outsiders.append(try await LiveTestSocket.signedIn(port: secondPort, token: try await world.token(account, in: practice)))
                }
                let smith = try await LiveTestSocket.signedIn(port: secondPort, token: try await world.token(.smith))
                defer { for socket in outsiders + [smith] { socket.close() } }
                #expect(try await world.call(.post, "/api/v1/threads/\(thread)/messages", as: .john, json: ["body": "for Dr. Smith only"]).status == .created)
                #expect(await smith.next(type: "message") != nil)
                // Each outsider's socket still answers (a pong after the event was handled) but heard nothing.
                for socket in outsiders {
                    socket.send(["type": "ping"])
                    #expect(await socket.next(type: "pong") != nil)
                    #expect(!socket.frames.contains { $0["type"] as? String == "message" }, "\(socket.frames)")
                }
                // Reassigned to Dr. Johnson, John's next message goes to him and no longer to Dr. Smith.
                let moved = try await world.call(.patch, "/api/v1/patients/\(demo.john.wire)", as: .admin, json: ["assignedTherapistId": demo.johnson.wire])
                #expect(moved.status == .ok)
                #expect(try await world.call(.post, "/api/v1/threads/\(thread)/messages", as: .john, json: ["body": "hello, new therapist"]).status == .created)
                let johnson = outsiders[1]
                let handedOver = try #require(await johnson.next(type: "message"))
                #expect((handedOver["message"] as? [String: Any])?["body"] as? String == "hello, new therapist")
                smith.send(["type": "ping"])
                #expect(await smith.next(type: "pong") != nil)
                #expect(smith.frames.filter { $0["type"] as? String == "message" }.count == 1)
            }
        }
    }

    @Sendable static func shortTokens(_ configuration: inout AppConfiguration) { configuration.jwt.accessTokenLifetime = 6 }

    @Test(arguments: TestBackend.all)
    func theFirstFrameSignsInAndTheTokenEndsTheSocket(_ backend: TestBackend) async throws {
        try await withWorld(backend, configure: Self.shortTokens) { world in
            // No token at all, a frame before signing in, a forged token: refused with 4401.
            let silent = LiveTestSocket(port: world.port)
            silent.send(["type": "ping"])
            #expect(await silent.next(type: "error")?["code"] as? String == "unauthenticated")
            #expect(await silent.closeCode() == 4401)
            let forged = LiveTestSocket(port: world.port)
            forged.send(["type": "auth", "accessToken": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"])
            #expect(await forged.closeCode() == 4401)
            let garbage = LiveTestSocket(port: world.port)
            garbage.sendText("not json")
            #expect(await garbage.closeCode() == 4400)

            // A token in the URL is not a way in: the path with a query is not upgraded at all.
            let inURL = LiveTestSocket(port: world.port, path: "\(LiveSocket.path)?access_token=\(try await world.token(.john))")
            #expect(await inURL.closeCode(timeout: .seconds(3)) == nil && inURL.frames.isEmpty)

            // A plain GET of the path is told to upgrade.
            let plain = try await world.call(.get, LiveSocket.path)
            #expect(plain.status.code == 426, "\(plain.status)")

            // Signed in, the socket ends with its token (6 s here) ...
            let expiring = try await LiveTestSocket.signedIn(port: world.port, token: try await world.token(.john))
            #expect(await expiring.next(type: "expired", timeout: .seconds(15)) != nil, "\(expiring.frames)")
            #expect(await expiring.closeCode() == 4401)

            // ... unless a fresh token of the same user renews it; another user's token closes it with 4403.
            let renewed = try await LiveTestSocket.signedIn(port: world.port, token: try await world.token(.john))
            let opened = ContinuousClock.now
            try await Task.sleep(for: .seconds(2))
            renewed.send(["type": "auth", "accessToken": try await world.token(.john)])
            #expect(await renewed.next(type: "ready") != nil)
            // Past the first token's end (6 s after it was issued), well before the second's.
            try await Task.sleep(until: opened + .milliseconds(6500))
            renewed.send(["type": "ping"])
            #expect(await renewed.next(type: "pong") != nil, "renewed past the first token's end: \(renewed.frames)")
            renewed.send(["type": "auth", "accessToken": try await world.token(.smith)])
            #expect(await renewed.closeCode() == 4403)
        }
    }
}
