import EHRDomain
import EHRPersistence
import Foundation
import PostgresNIO
import SQLKit
import Testing

@testable import EHRPersistence

/// A therapist's appointment list: theirs, and their patients' with other therapists, read as two ordered
/// index arms (``AppointmentCareTherapist``). Checked against a brute-force answer, across pages, after a
/// reassignment, against a forged `care_therapist_id`, and (PostgreSQL) the prepared fast path against the
/// general path.
@Suite("Therapist appointment lists")
struct TherapistListTests {
    let demo = TestWorld.demo

    @Test(arguments: TestBackend.all)
    func upcomingListIsTheirsAndTheirPatientsAcrossPagesAndFollowsReassignment(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // John is Dr. Smith's patient, Bob Dr. Johnson's. Book John with both, Bob with both.
            var booked: [(id: String, patient: UUID, therapist: UUID)] = []
            for day in 1...4 {
                for (hour, patient, therapist) in [
                    (9, demo.john, demo.smith), (11, demo.john, demo.johnson), (13, demo.bob, demo.smith), (15, demo.bob, demo.johnson),
                ] {
                    booked.append((try await world.bookTelevisit(patient: patient, therapist: therapist, day: day, hour: hour), patient, therapist))
                }
            }
            func expected(for therapist: UUID, patientsOf: [UUID: UUID]) async throws -> [String] {
                // The brute-force answer: every upcoming appointment (admin's view), filtered by the rule itself.
                let all = try await pageThrough(world, as: .admin, limit: 100)
                return all.filter { item in
                    let row = booked.first { $0.id == item }
                    let seeded = row == nil
                    return !seeded && (row!.therapist == therapist || patientsOf[row!.patient] == therapist)
                }
            }
            let assignment = [demo.john: demo.smith, demo.bob: demo.johnson]
            let smiths = try await pageThrough(world, as: .smith, limit: 3).filter { id in booked.contains { $0.id == id } }
            #expect(smiths == (try await expected(for: demo.smith, patientsOf: assignment)))
            #expect(smiths.count == 12, "his own 8, and John's 4 with Dr. Johnson")
            let johnsons = try await pageThrough(world, as: .johnson, limit: 5).filter { id in booked.contains { $0.id == id } }
            #expect(johnsons == (try await expected(for: demo.johnson, patientsOf: assignment)))

            // John moves to Dr. Johnson: his appointments with Dr. Johnson leave Dr. Smith's list.
            let moved = try await world.call(
                .patch, "/api/v1/patients/\(demo.john.lowercasedString)", as: .admin, json: ["assignedTherapistId": demo.johnson.lowercasedString])
            #expect(moved.status == .ok)
            let after = [demo.john: demo.johnson, demo.bob: demo.johnson]
            let smithsAfter = try await pageThrough(world, as: .smith, limit: 3).filter { id in booked.contains { $0.id == id } }
            #expect(smithsAfter == (try await expected(for: demo.smith, patientsOf: after)))
            #expect(smithsAfter.count == 8)
            let johnsonsAfter = try await pageThrough(world, as: .johnson, limit: 4).filter { id in booked.contains { $0.id == id } }
            #expect(johnsonsAfter == (try await expected(for: demo.johnson, patientsOf: after)))
            #expect(johnsonsAfter.count == 16, "his own 8, and John's and Bob's 4 each with Dr. Smith")
        }
    }

    /// The stored therapist is the database's to keep: a direct write cannot point an appointment at someone else.
    @Test(arguments: TestBackend.all)
    func careTherapistCannotBeForged(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let id = try await world.bookTelevisit(patient: demo.john, therapist: demo.johnson, day: 2, hour: 10)
            let owner = world.owner.sql
            try await owner.raw("UPDATE appointments SET care_therapist_id = \(bind: demo.johnson) WHERE id = \(bind: UUID(uuidString: id)!)").run()
            struct Row: Decodable { var care_therapist_id: UUID }
            let row = try #require(
                try await owner.raw("SELECT care_therapist_id FROM appointments WHERE id = \(bind: UUID(uuidString: id)!)").first(decoding: Row.self))
            #expect(row.care_therapist_id == demo.smith)
            #expect(try await pageThrough(world, as: .smith, limit: 10).contains(id))
        }
    }

    /// Bookings and reassignments of the same patient racing each other: whichever commits first, every appointment
    /// ends with the patient's final therapist as its care therapist (PostgreSQL: the insert trigger reads the
    /// patient `FOR SHARE`, so a reassignment either commits first and is read, or waits and then moves the row).
    @Test(arguments: TestBackend.all)
    func bookingsRacingReassignmentsKeepTheCareTherapist(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            let therapists = [demo.smith, demo.johnson]
            let results = try await withThrowingTaskGroup(of: Int.self, returning: [Int].self) { group in
                for slot in 0..<16 {
                    group.addTask {
                        let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
                        let start = Date(timeIntervalSince1970: today + Double(5 * 86_400 + slot * 3600))
                        let reply = try await world.call(
                            .post, "/api/v1/appointments", as: .admin,
                            json: [
                                "patientId": demo.john.lowercasedString, "therapistId": demo.johnson.lowercasedString,
                                "startsAt": RFC3339Text.format(start), "endsAt": RFC3339Text.format(start.addingTimeInterval(50 * 60)),
                                "timeZone": "America/New_York", "kind": "televisit",
                            ])
                        return reply.status.code
                    }
                }
                for round in 0..<8 {
                    group.addTask {
                        let reply = try await world.call(
                            .patch, "/api/v1/patients/\(demo.john.lowercasedString)", as: .admin,
                            json: ["assignedTherapistId": therapists[(round + 1) % 2].lowercasedString])
                        return reply.status.code
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0 == 200 || $0 == 201 }, "\(results)")
            struct Row: Decodable {
                var care_therapist_id: UUID
                var assigned: UUID
            }
            let rows = try await world.owner.sql.raw(
                """
                SELECT a.care_therapist_id, p.assigned_therapist_id AS assigned FROM appointments a
                JOIN patients p ON p.tenant_id = a.tenant_id AND p.id = a.patient_id WHERE a.patient_id = \(bind: demo.john)
                """
            ).all(decoding: Row.self)
            #expect(rows.count >= 16)
            let stale = rows.filter { $0.care_therapist_id != $0.assigned }
            #expect(stale.isEmpty, "\(stale.count) of \(rows.count) appointments keep a care therapist other than the patient's")
        }
    }

    /// PostgreSQL answers the hot list from a prepared statement; it must really run there and agree with the general path.
    @Test(arguments: TestBackend.all)
    func preparedFastPathMatchesTheGeneralPath(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for day in 1...3 {
                _ = try await world.bookTelevisit(patient: demo.john, therapist: demo.johnson, day: day, hour: 8)
                _ = try await world.bookTelevisit(patient: demo.bob, therapist: demo.smith, day: day, hour: 12)
            }
            let store = world.services.store
            let now = Date()
            let scope = AppointmentScope.therapist(tenantID: demo.tenantID, therapistID: demo.smith)
            try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                let fast = try await PostgresFastRows.appointments(
                    UpcomingForTherapist(tenantID: demo.tenantID, therapistID: demo.smith, now: now, after: nil, limit: 50), on: world.services.database)
                switch backend {
                case .sqlite:
                    #expect(fast == nil)
                    // The prepared readers' rows, read column by column, equal sqlite-nio's rows in their Codable
                    // decoding, for a statement with bound values, run twice (prepared once, reused).
                    let query: SQLQueryString =
                        "SELECT \(unsafeRaw: SQLStore.columns) FROM appointments a WHERE a.tenant_id = \(bind: demo.tenantID) AND a.starts_at > \(bind: Date.distantPast) ORDER BY a.starts_at, a.id"
                    let rows = try await world.services.database.sql.raw(query).all().map { try $0.decode(model: AppointmentRow.self, with: SQLStore.decoder) }
                    #expect(rows.count >= 6)
                    for _ in 0..<2 {
                        let prepared = try #require(try await world.services.database.preparedRows(query)).map(AppointmentRow.init(columns:))
                        #expect(prepared == rows)
                    }
                    #expect(rows.contains { $0.reason != nil })
                case .postgres:
                    let rows = try #require(fast)
                    // A filter that changes nothing sends the same question down the general path.
                    let general = try await store.list(
                        scope: scope, filter: AppointmentFilter(from: .distantPast, upcomingAfter: now), page: PageRequest(limit: 50, after: nil))
                    #expect(rows.map(\.id) == general.items.map(\.id))
                    #expect(rows.count >= 6)
                    // The direct binary reading of each row equals PostgresNIO's own decoding of it.
                    let statement = UpcomingForTherapist(tenantID: demo.tenantID, therapistID: demo.smith, now: now, after: nil, limit: 50)
                    let compared = try await world.services.database.withScopedConnection { connection, logger in
                        var count = 0
                        let query = PostgresQuery(unsafeSQL: UpcomingForTherapist.sql, binds: try statement.makeBindings())
                        for try await row in try await connection.query(query, logger: logger) {
                            let direct = try #require(AppointmentRow(binary: row))
                            #expect(direct == (try UpcomingForTherapist.decodeGenerically(row)))
                            count += 1
                        }
                        return count
                    }
                    #expect(compared == rows.count)
                    #expect(rows.contains { $0.reason != nil } && rows.contains { $0.cancellationReason == nil })
                    // Page by page through the prepared path equals the one page.
                    var paged: [UUID] = []
                    var cursor: PageCursor?
                    repeat {
                        let page = try await store.list(scope: scope, filter: AppointmentFilter(upcomingAfter: now), page: PageRequest(limit: 2, after: cursor))
                        paged += page.items.map(\.id)
                        cursor = page.next
                    } while cursor != nil
                    #expect(paged == general.items.map(\.id))
                }
            }
        }
    }

    /// SQLite's list reads each arm from its ordered index and the page's columns by row id: no scan of the
    /// practice's appointments, whatever its size.
    @Test func sqliteListReadsTwoIndexesAndRowsByID() async throws {
        try await withWorld(.sqlite) { world in
            let rest: SQLQueryString = " AND a.ends_at > \(bind: Date()) ORDER BY a.starts_at, a.id LIMIT 21"
            let query = SQLStore.sqliteTherapistList(tenantID: demo.tenantID, therapistID: demo.smith, rest: rest, limit: 21)
            let plan = try await world.services.database.sql.raw("EXPLAIN QUERY PLAN " + query).all()
                .map { try $0.decode(column: "detail", as: String.self) }
            #expect(plan.contains { $0.contains("USING INDEX appointments_by_therapist_in_order") }, "\(plan)")
            #expect(plan.contains { $0.contains("USING INDEX appointments_by_care_therapist") }, "\(plan)")
            #expect(plan.contains { $0.contains("SEARCH a USING INTEGER PRIMARY KEY (rowid=?)") }, "\(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN a") || $0.contains("appointments_by_tenant") }, "\(plan)")
        }
    }

    // MARK: helpers

    /// Every id of the upcoming list, following `nextCursor`.
    private func pageThrough(_ world: TestWorld, as account: TestWorld.Account, limit: Int) async throws -> [String] {
        var seen: [String] = []
        var cursor: String?
        repeat {
            var url = "/api/v1/appointments?upcoming=true&limit=\(limit)"
            if let cursor { url += "&cursor=\(cursor)" }
            let reply = try await world.call(.get, url, as: account)
            try #require(reply.status == .ok, "\(reply.text)")
            seen += reply.items.compactMap { $0["id"] as? String }
            cursor = reply.json["nextCursor"] as? String
        } while cursor != nil
        return seen
    }
}

/// RFC 3339 text of a date, as the API takes it (shared by the tests that book appointments).
enum RFC3339Text {
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// A date the API answered with (with or without fractional seconds).
    static func parse(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
