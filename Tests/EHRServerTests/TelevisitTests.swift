import Foundation
import HTTPTypes
import Testing

/// HTTP tests of `POST /api/v1/appointments/{id}/startTelevisit`: only the appointment's therapist
/// and its client join; everyone else (admins included) gets 404; finished appointments get 409.
/// Every test runs on SQLite and PostgreSQL.
@Suite(.serialized) struct TelevisitTests {
    typealias Reply = TestWorld.Reply
    let demo = TestWorld.demo
    let other = TestWorld.other

    private func startPath(_ id: String) -> String { "/api/v1/appointments/\(id)/startTelevisit" }
    private func appointmentPath(_ id: String) -> String { "/api/v1/appointments/\(id)" }

    @Test(arguments: TestBackend.all)
    func therapistStartsTheSession(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = demo.johnAppointment.idText
            let before = Date()
            let reply = try await world.call(.post, startPath(id), as: .smith)
            #expect(reply.status == .ok, "\(reply.text)")
            let roomID = try #require(reply.json["roomId"] as? String)
            #expect(!roomID.isEmpty)
            let joinURL = try #require(reply.json["joinUrl"] as? String)
            let url = try #require(URL(string: joinURL))
            #expect(url.scheme == "https" || url.scheme == "http")
            #expect(joinURL.contains(roomID))
            let token = try #require(reply.json["joinToken"] as? String)
            #expect(token.split(separator: ".").count == 3, "a signed JWT")
            let expiresAt = try #require(date(reply.json["expiresAt"]))
            #expect(expiresAt > Date(), "expiresAt is in the future")
            #expect(expiresAt > before && expiresAt < before.addingTimeInterval(24 * 3600), "short-lived")

            let appointment = try #require(reply.json["appointment"] as? [String: Any])
            #expect(appointment["id"] as? String == id)
            #expect(appointment["status"] as? String == "in_progress")
            let fetched = try await world.call(.get, appointmentPath(id), as: .admin)
            #expect(fetched.json["status"] as? String == "in_progress")

            // The join token admits to the room only; it is not an API access token.
            let misuse = try await world.call(.get, "/api/v1/appointments", token: token)
            #expect(misuse.status == .unauthorized)

            // Re-joining an in-progress session works and keeps the room.
            let again = try await world.call(.post, startPath(id), as: .smith)
            #expect(again.status == .ok)
            #expect(again.json["roomId"] as? String == roomID)
            #expect((again.json["appointment"] as? [String: Any])?["status"] as? String == "in_progress")
        }
    }

    @Test(arguments: TestBackend.all)
    func clientJoinsTheSameRoomWithHisOwnToken(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = demo.johnAppointment.idText
            let therapist = try await world.call(.post, startPath(id), as: .smith)
            #expect(therapist.status == .ok)
            let client = try await world.call(.post, startPath(id), as: .john)
            #expect(client.status == .ok, "\(client.text)")
            #expect(client.json["roomId"] as? String == therapist.json["roomId"] as? String, "same room for both")
            #expect(client.json["joinToken"] as? String != nil)
            #expect(client.json["joinToken"] as? String != therapist.json["joinToken"] as? String, "each caller gets their own token")
            #expect(date(client.json["expiresAt"]).map { $0 > Date() } == true)
            #expect((client.json["appointment"] as? [String: Any])?["status"] as? String == "in_progress")

            // Bob joins his own appointment.
            let bob = try await world.call(.post, startPath(demo.bobAppointment.idText), as: .bob)
            #expect(bob.status == .ok)
        }
    }

    /// Contract: "When the therapist starts a scheduled or confirmed appointment it becomes in_progress;
    /// the client joining does not change the status."
    @Test(arguments: TestBackend.all)
    func clientJoiningDoesNotChangeTheStatus(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = demo.johnAppointment.idText
            let client = try await world.call(.post, startPath(id), as: .john)
            #expect(client.status == .ok)
            #expect((client.json["appointment"] as? [String: Any])?["status"] as? String == "scheduled")
            #expect(try await world.call(.get, appointmentPath(id), as: .admin).json["status"] as? String == "scheduled")

            let confirmed = try await book(world, patient: demo.jane, therapist: demo.smith, day: 10)
            #expect(try await world.call(.patch, appointmentPath(confirmed), as: .smith, json: ["status": "confirmed"]).status == .ok)
            #expect(try await world.call(.post, startPath(confirmed), as: .jane).status == .ok)
            #expect(try await world.call(.get, appointmentPath(confirmed), as: .admin).json["status"] as? String == "confirmed")
            // Then the therapist starts it.
            let started = try await world.call(.post, startPath(confirmed), as: .smith)
            #expect((started.json["appointment"] as? [String: Any])?["status"] as? String == "in_progress")
        }
    }

    @Test(arguments: TestBackend.all)
    func everyoneElseGets404(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = demo.johnAppointment.idText
            for account in [TestWorld.Account.admin, .johnson, .jane, .bob] {
                expectProblem(try await world.call(.post, startPath(id), as: account), 404, "\(account) starting John's televisit")
            }
            for account in TestWorld.Account.allCases {
                expectProblem(try await world.call(.post, startPath(id), as: account, in: other), 404, "other practice's \(account)")
            }
            for account in [TestWorld.Account.admin, .smith, .john, .jane] {
                expectProblem(try await world.call(.post, startPath(demo.bobAppointment.idText), as: account), 404, "\(account) starting Bob's")
            }
            expectProblem(try await world.call(.post, startPath(UUID().idText), as: .smith), 404, "unknown appointment")
            // Nothing changed.
            #expect(try await world.call(.get, appointmentPath(id), as: .admin).json["status"] as? String == "scheduled")
            #expect(try await world.call(.get, appointmentPath(demo.bobAppointment.idText), as: .admin).json["status"] as? String == "scheduled")

            // John's assigned therapist (Dr. Smith) may SEE John's session with Dr. Johnson but not join it.
            let cross = try await book(world, patient: demo.john, therapist: demo.johnson, day: 11)
            #expect(try await world.call(.get, appointmentPath(cross), as: .smith).status == .ok)
            expectProblem(try await world.call(.post, startPath(cross), as: .smith), 404, "assigned therapist, not the appointment's")
            expectProblem(try await world.call(.post, startPath(cross), as: .admin), 404, "admin")
            #expect(try await world.call(.post, startPath(cross), as: .johnson).status == .ok, "the appointment's therapist")
            #expect(try await world.call(.post, startPath(cross), as: .john).status == .ok, "the appointment's client")
        }
    }

    @Test(arguments: TestBackend.all)
    func finishedOrInPersonAppointmentsGet409(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // Cancelled.
            let cancelled = try await book(world, patient: demo.john, therapist: demo.smith, day: 12)
            #expect(try await world.call(.delete, appointmentPath(cancelled), as: .smith, json: ["reason": "r"]).status == .ok)
            expectProblem(try await world.call(.post, startPath(cancelled), as: .smith), 409, "therapist, cancelled")
            expectProblem(try await world.call(.post, startPath(cancelled), as: .john), 409, "client, cancelled")
            // Those who may not join still get 404, not 409.
            expectProblem(try await world.call(.post, startPath(cancelled), as: .admin), 404, "admin, cancelled")
            expectProblem(try await world.call(.post, startPath(cancelled), as: .johnson), 404, "Johnson, cancelled")

            // Completed (directly).
            let completed = try await book(world, patient: demo.john, therapist: demo.smith, day: 13)
            #expect(try await world.call(.patch, appointmentPath(completed), as: .smith, json: ["status": "completed"]).status == .ok)
            expectProblem(try await world.call(.post, startPath(completed), as: .smith), 409, "therapist, completed")
            expectProblem(try await world.call(.post, startPath(completed), as: .john), 409, "client, completed")

            // Completed after the session ran.
            let ran = try await book(world, patient: demo.john, therapist: demo.smith, day: 14)
            #expect(try await world.call(.post, startPath(ran), as: .smith).status == .ok)
            let done = try await world.call(.patch, appointmentPath(ran), as: .smith, json: ["status": "completed"])
            #expect(done.status == .ok)
            #expect(done.json["status"] as? String == "completed")
            expectProblem(try await world.call(.post, startPath(ran), as: .smith), 409, "restart after completion")
            #expect(try await world.call(.get, appointmentPath(ran), as: .admin).json["status"] as? String == "completed")

            // In progress: cannot go back to scheduled, nor be cancelled.
            let live = try await book(world, patient: demo.john, therapist: demo.smith, day: 15)
            #expect(try await world.call(.post, startPath(live), as: .smith).status == .ok)
            expectProblem(try await world.call(.patch, appointmentPath(live), as: .smith, json: ["status": "scheduled"]), 409, "in_progress -> scheduled")
            expectProblem(try await world.call(.delete, appointmentPath(live), as: .smith, json: ["reason": "r"]), 409, "cancel in_progress")

            // No-show.
            let noShow = try await book(world, patient: demo.john, therapist: demo.smith, day: 16)
            #expect(try await world.call(.patch, appointmentPath(noShow), as: .admin, json: ["status": "no_show"]).status == .ok)
            expectProblem(try await world.call(.post, startPath(noShow), as: .smith), 409, "no_show")

            // In person.
            let office = try await book(world, patient: demo.john, therapist: demo.smith, day: 17, kind: "in_person")
            expectProblem(try await world.call(.post, startPath(office), as: .smith), 409, "in-person appointment")
            expectProblem(try await world.call(.post, startPath(office), as: .john), 409, "in-person appointment, client")
            #expect(try await world.call(.get, appointmentPath(office), as: .admin).json["status"] as? String == "scheduled")
        }
    }

    @Test(arguments: TestBackend.all)
    func malformedAndUnauthenticatedRequests(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            expectProblem(try await world.call(.post, startPath(demo.johnAppointment.idText)), 401, "no token")
            expectProblem(try await world.call(.post, startPath(demo.johnAppointment.idText), token: "Bearer"), 401, "garbage token")
            expectProblem(try await world.call(.post, startPath("not-a-uuid"), as: .smith), 400, field: "id", "bad id")
            #expect(try await world.call(.get, appointmentPath(demo.johnAppointment.idText), as: .admin).json["status"] as? String == "scheduled")
        }
    }

    // MARK: Helpers

    /// `withWorld`, but an error thrown by the test body is recorded as an issue instead of escaping:
    /// `withWorld` only shuts its database down when the body returns normally, and an unclosed pool
    /// aborts the whole test process.
    private func inWorld(_ backend: TestBackend, _ body: @Sendable (TestWorld) async throws -> Void) async throws {
        try await withWorld(backend) { world in
            do { try await body(world) } catch { Issue.record(error, "the test body threw") }
        }
    }

    /// Admin books a 50-minute appointment at 10:00 UTC `day` days from today; returns its id.
    private func book(
        _ world: TestWorld, patient: UUID, therapist: UUID, day: Int, kind: String = "televisit",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        let start = Date(timeIntervalSince1970: today + Double(day * 86_400 + 10 * 3600))
        let formatter = ISO8601DateFormatter()
        let body: [String: Any] = [
            "patientId": patient.idText, "therapistId": therapist.idText, "startsAt": formatter.string(from: start),
            "endsAt": formatter.string(from: start.addingTimeInterval(50 * 60)), "timeZone": "America/New_York", "kind": kind,
        ]
        let reply = try await world.call(.post, "/api/v1/appointments", as: .admin, json: body)
        #expect(reply.status == .created, "booking failed: \(reply.status.code) \(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply.json["id"] as? String, sourceLocation: sourceLocation)
    }

    private func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

}

private extension UUID {
    var idText: String { uuidString.lowercased() }
}
