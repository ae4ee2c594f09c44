import EHRDomain
import Foundation
import Testing

@testable import EHRServer

/// Each request for a therapist's upcoming list leaves exactly one audit event naming exactly the patients of the
/// page it answered with: not the row read past the page to know whether there is a next one, and none for an
/// empty page (the access log a patient sees is built from these names).
@Suite("The audited upcoming list")
struct AuditedListTests {
    let demo = TestWorld.demo

    @Test(arguments: TestBackend.all)
    func eachListLeavesOneEventNamingThePagesPatients(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // Dr. Smith's: John with him, Bob with him, Jane with him on the last day only (the page of 2 stops before it).
            for (day, hour, patient) in [(1, 9, demo.john), (1, 11, demo.bob), (2, 9, demo.john), (3, 9, demo.bob), (9, 9, demo.jane)] {
                try await book(world, patient: patient, therapist: demo.smith, day: day, hour: hour)
            }
            var pages: [[String]] = []
            var cursor: String?
            repeat {
                var url = "/api/v1/appointments?upcoming=true&limit=2"
                if let cursor { url += "&cursor=\(cursor)" }
                let reply = try await world.call(.get, url, as: .smith)
                try #require(reply.status == .ok, "\(reply.text)")
                pages.append(Set(reply.items.compactMap { $0["patientId"] as? String }).sorted())
                cursor = reply.json["nextCursor"] as? String
            } while cursor != nil
            // A therapist with nothing upcoming: the event names no patient.
            let empty = try await world.call(.get, "/api/v1/appointments?upcoming=true", as: .johnson)
            #expect(empty.status == .ok)
            let johnsonHasNone = empty.items.isEmpty

            // Only these requests list as a therapist (the bookings are the admin's).
            let events = try await world.storedEvents().filter { $0.action == "appointment.list" }
            let smiths = events.filter { $0.actor_id == demo.smith.lowercasedString }
            #expect(smiths.count == pages.count, "one event per request: \(smiths.count) for \(pages.count) pages")
            for (event, page) in zip(smiths, pages) {
                #expect(event.outcome == "allowed")
                let named = try event.patient_ids.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
                #expect(named == page, "the event names the page's patients, no more")
            }
            #expect(pages.count >= 3 && pages.contains { $0.count == 2 })
            let johnsons = events.filter { $0.actor_id == demo.johnson.lowercasedString }
            #expect(johnsons.count == 1)
            if johnsonHasNone { #expect(johnsons.first?.patient_ids == nil) }
            #expect(try await world.services.auditLog.verify(tenantID: demo.tenantID, in: world.services.database).isIntact)
        }
    }

    private func book(_ world: TestWorld, patient: UUID, therapist: UUID, day: Int, hour: Int) async throws {
        let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        let start = Date(timeIntervalSince1970: today + Double(day * 86_400 + hour * 3600))
        let reply = try await world.call(
            .post, "/api/v1/appointments", as: .admin,
            json: [
                "patientId": patient.lowercasedString, "therapistId": therapist.lowercasedString, "startsAt": RFC3339Text.format(start),
                "endsAt": RFC3339Text.format(start.addingTimeInterval(50 * 60)), "timeZone": "America/New_York", "kind": "televisit",
            ])
        try #require(reply.status == .created, "booking: \(reply.text)")
    }
}
