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
            // Dr. Johnson's only upcoming appointment (the seed's, with Bob) cancelled: his list is empty, and its
            // event names no patient. Listed before Bob is booked with Dr. Smith below (Bob is Dr. Johnson's patient).
            let cancelled = try await world.call(.delete, "/api/v1/appointments/\(demo.bobAppointment.lowercasedString)", as: .admin, json: [:])
            try #require(cancelled.status == .ok, "\(cancelled.text)")
            let empty = try await world.call(.get, "/api/v1/appointments?upcoming=true", as: .johnson)
            #expect(empty.status == .ok && empty.items.isEmpty, "\(empty.text)")

            // Dr. Smith's: John with him, Bob with him, Jane with him on the last day only (the page of 2 stops before it).
            for (day, hour, patient) in [(1, 9, demo.john), (1, 11, demo.bob), (2, 9, demo.john), (3, 9, demo.bob), (9, 9, demo.jane)] {
                try await world.bookTelevisit(patient: patient, therapist: demo.smith, day: day, hour: hour)
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
            #expect(johnsons.count == 1 && johnsons.first?.patient_ids == nil)
            #expect(try await world.services.auditLog.verify(tenantID: demo.tenantID, in: world.services.database).isIntact)
        }
    }
}
