import EHRAPI
import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import NIOCore
@_spi(Generated) import OpenAPIRuntime
import Testing

@testable import EHRServer

/// ``AppointmentListJSON`` must write exactly what the generated types write through the server's own
/// configuration (plus the explicit null cursor of the last page), on real rows and on awkward text.
@Suite("Appointment list JSON")
struct AppointmentListJSONTests {
    /// The generated encoding, as the server's serializer produces it, with NullCursorMiddleware's patch.
    private func generated(_ items: [Appointment], nextCursor: String?) async throws -> String {
        var headers = HTTPFields()
        let list = Components.Schemas.AppointmentList(items: items.map(Components.Schemas.Appointment.init), nextCursor: nextCursor)
        let body = try Converter(configuration: APIHandler.configuration).setResponseBodyAsJSON(
            list, headerFields: &headers, contentType: "application/json; charset=utf-8")
        var text = try await String(collecting: body, upTo: 1 << 20)
        if nextCursor == nil {
            text.removeLast()
            text += ",\"nextCursor\":null}"
        }
        return text
    }

    private func written(_ items: [Appointment], nextCursor: String?) -> String {
        String(buffer: AppointmentListJSON.encode(items, nextCursor: nextCursor))
    }

    @Test(arguments: TestBackend.all)
    func sameBytesAsTheGeneratedEncoderOnRealRows(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            // A cancelled appointment carries a cancellation reason; seeded ones carry reasons.
            let cancelled = try await world.call(
                .delete, "/api/v1/appointments/\(demo.bobAppointment.lowercasedString)", as: .admin, json: ["reason": "Sick \"again\" / rescheduling\nsoon"])
            #expect(cancelled.status == .ok || cancelled.status == .noContent)
            let page = try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                try await world.services.store.list(scope: .tenant(demo.tenantID), filter: AppointmentFilter(), page: PageRequest(limit: 100))
            }
            #expect(page.items.count >= 2)
            #expect(page.items.contains { $0.cancellationReason != nil })
            for cursor in [nil, "AbC-_123"] {
                #expect(written(page.items, nextCursor: cursor) == (try await generated(page.items, nextCursor: cursor)))
            }
            #expect(written([], nextCursor: nil) == (try await generated([], nextCursor: nil)))
        }
    }

    @Test func sameBytesOnAwkwardText() async throws {
        var texts = ["", "plain", "quote \" backslash \\ slash / end", "tab\tnew\nline\rcr", "ünïcödé ☂︎ 🧠 こんにちは", "\u{7F}\u{2028}\u{2029}"]
        texts.append(String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self))
        let base = Appointment(
            tenantID: UUID(), patientID: UUID(), therapistID: UUID(), startsAt: Date(timeIntervalSince1970: 1_796_115_507.408),
            endsAt: Date(timeIntervalSince1970: 1_796_118_507), timeZone: "America/New_York", status: .scheduled, kind: .televisit, reason: nil)
        var items: [Appointment] = []
        for text in texts {
            var a = base
            a.id = UUID()
            a.reason = text
            a.cancellationReason = text.isEmpty ? nil : text
            a.timeZone = text
            items.append(a)
        }
        #expect(written(items, nextCursor: "x\"y") == (try await generated(items, nextCursor: "x\"y")))
        for item in items {
            #expect(written([item], nextCursor: nil) == (try await generated([item], nextCursor: nil)), "\(item.reason ?? "")")
        }
    }
}
