import EHRAPI
import Foundation
import HTTPTypes
@_spi(Generated) import OpenAPIRuntime
import Testing

@testable import EHRServer

/// The appointment list's direct query reading (``ListAppointmentsQuery``) must mean exactly what the generated
/// decoder means whenever it answers, and the route must keep every guarantee of the generated one.
@Suite("Appointment list's direct query reading")
struct HotListRouteTests {
    /// The generated server's decoding of the list's query (the same calls, in the same order, as its deserializer).
    private func generated(_ path: String) throws -> Operations.ListAppointments.Input.Query {
        let converter = Converter(configuration: APIHandler.configuration)
        let query = HTTPRequest(method: .get, scheme: nil, authority: nil, path: path).soar_query
        func item<T: Decodable>(_ name: String, _ type: T.Type) throws -> T? {
            try converter.getOptionalQueryItemAsURI(in: query, style: .form, explode: true, name: name, as: type)
        }
        return .init(
            limit: try item("limit", Int.self), cursor: try item("cursor", String.self), from: try item("from", Date.self),
            to: try item("to", Date.self), therapistId: try item("therapistId", String.self), patientId: try item("patientId", String.self),
            status: try item("status", Components.Schemas.AppointmentStatus.self), upcoming: try item("upcoming", Bool.self))
    }

    @Test func canonicalQueriesAreReadDirectlyAndMeanWhatTheGeneratedDecoderReads() throws {
        let paths = [
            "/api/v1/appointments", "/api/v1/appointments?", "/api/v1/appointments?upcoming=true&limit=20",
            "/api/v1/appointments?limit=5&cursor=AbC-_123.x~y&upcoming=false&status=no_show",
            "/api/v1/appointments?from=2026-12-01T15:00:00Z&to=2026-12-08T15:00:00.250Z&therapistId=9B2D5C3E-0000-4000-8000-000000000001",
            "/api/v1/appointments?patientId=not-a-uuid&limit=-3&status=in_progress", "/api/v1/appointments/?limit=020",
        ]
        for path in paths {
            let direct = try #require(ListAppointmentsQuery.parse(path), "\(path) should be read directly")
            #expect(direct == (try generated(path)), "\(path)")
        }
        let query = try #require(ListAppointmentsQuery.parse("/api/v1/appointments?upcoming=true&limit=20"))
        #expect(query.upcoming == true && query.limit == 20 && query.cursor == nil && query.from == nil)
    }

    @Test func anythingInDoubtIsLeftToTheGeneratedDecoder() {
        let doubtful = [
            "limit=2%30", "limit=+5", "limit=abc", "limit=", "limit", "limit=1&limit=2", "Limit=1", "limit=1&&upcoming=true",
            "upcoming=True", "upcoming=1", "status=bogus", "from=yesterday", "from=2026-12-01T15:00:00%2B01:00", "cursor=a+b",
            "cursor=a%2Fb", "therapistId=a=b", "unknown=1", "limit=1&", "&limit=1", "limit=99999999999999999999999",
            "cursor=%%%", "from=2030-13-45T00:00:00Z",
        ]
        for query in doubtful {
            #expect(ListAppointmentsQuery.parse("/api/v1/appointments?" + query) == nil, "\(query)")
        }
    }

    /// Random queries from pieces that tend to break parsers: whenever the direct reading answers, the generated
    /// decoder must accept the query and read the same values.
    @Test func randomQueriesNeverReadDifferently() throws {
        let names = ["limit", "cursor", "from", "to", "therapistId", "patientId", "status", "upcoming", "Limit", "x", ""]
        let values = [
            "20", "0", "-1", "007", "1e3", "true", "false", "TRUE", "scheduled", "no_show", "cancelled", "2026-12-01T15:00:00Z",
            "2026-12-01T15:00:00.5Z", "2026-02-30T00:00:00Z", "abc", "a.b~c_d-e", "%41", "a+b", "", "%", "é", "a=b", ":",
        ]
        var generator = SystemRandomNumberGenerator()
        var direct = 0
        for _ in 0..<4_000 {
            let pairs = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                names.randomElement(using: &generator)! + (Bool.random(using: &generator) ? "=" : "") + values.randomElement(using: &generator)!
            }
            let path = "/api/v1/appointments?" + pairs.joined(separator: "&")
            guard let query = ListAppointmentsQuery.parse(path) else { continue }
            direct += 1
            #expect(query == (try generated(path)), "\(path)")
        }
        #expect(direct > 100)
    }

    /// The direct route answers what the generated one answers, byte for byte, and audits each read alike.
    @Test(arguments: TestBackend.all)
    func directRouteAnswersAndAuditsLikeTheGeneratedOne(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let direct = "/api/v1/appointments?upcoming=false&limit=2"
            let encoded = "/api/v1/appointments?upcoming=false&limit=%32"  // the same query, left to the generated decoder
            #expect(ListAppointmentsQuery.parse(direct) != nil && ListAppointmentsQuery.parse(encoded) == nil)
            for account in [TestWorld.Account.admin, .smith, .john] {
                let before = try await world.eventCount()
                let fast = try await world.call(.get, direct, as: account)
                let slow = try await world.call(.get, encoded, as: account)
                #expect(fast.status == .ok && slow.status == .ok, "\(account)")
                #expect(fast.text == slow.text, "\(account)")
                #expect(fast.headers[.contentType] == slow.headers[.contentType])
                #expect(fast.headers[.requestID] != nil)
                #expect(try await world.eventCount() == before + 2, "\(account): one audit event per read")
            }
            let withAccept = try await world.call(
                .get, direct, token: try await world.token(.admin), headers: [.accept: "application/json"])
            #expect(withAccept.status == .ok && !withAccept.items.isEmpty)
            // Errors of the direct reading are the generated route's problems, naming the field.
            let badLimit = try await world.call(.get, "/api/v1/appointments?limit=0", as: .admin)
            #expect(badLimit.status == .badRequest && badLimit.problemFields == ["limit"])
            let anonymous = try await world.call(.get, direct)
            #expect(anonymous.status == .unauthorized)
        }
    }
}
