import Foundation
import Testing

@testable import EHRServer

extension TestWorld {
    /// Books, as the admin, a 50-minute televisit `day` days from today's UTC midnight at `hour`; returns its id.
    @discardableResult
    func bookTelevisit(patient: UUID, therapist: UUID, day: Int, hour: Int) async throws -> String {
        let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        let start = Date(timeIntervalSince1970: today + Double(day * 86_400 + hour * 3600))
        let reply = try await call(
            .post, "/api/v1/appointments", as: .admin,
            json: [
                "patientId": patient.lowercasedString, "therapistId": therapist.lowercasedString, "startsAt": RFC3339Text.format(start),
                "endsAt": RFC3339Text.format(start.addingTimeInterval(50 * 60)), "timeZone": "America/New_York", "kind": "televisit",
            ])
        try #require(reply.status == .created, "booking: \(reply.text)")
        return try #require(reply.json["id"] as? String)
    }
}
