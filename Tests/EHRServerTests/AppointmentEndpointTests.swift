import Foundation
import HTTPTypes
import Testing

/// HTTP tests of `/api/v1/appointments`: who may list, read, book, change and cancel which
/// appointment (allowed and denied for every role), filters, pagination, validation,
/// double-booking and the booking race. Every test runs on SQLite and PostgreSQL.
@Suite(.serialized) struct AppointmentEndpointTests {
    typealias Reply = TestWorld.Reply
    let demo = TestWorld.demo
    let other = TestWorld.other
    let path = "/api/v1/appointments"

    // MARK: Listing per role

    @Test(arguments: TestBackend.all)
    func listIsScopedPerRole(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let johnAppt = demo.johnAppointment.idText
            let bobAppt = demo.bobAppointment.idText

            let admin = try await world.call(.get, path, as: .admin)
            #expect(admin.status == .ok)
            #expect(ids(admin).isSuperset(of: [johnAppt, bobAppt]))
            #expect(admin.items.allSatisfy { $0["tenantId"] as? String == demo.tenantID.idText })

            let smith = try await world.call(.get, path, as: .smith)
            #expect(smith.status == .ok)
            #expect(ids(smith).contains(johnAppt))
            #expect(!ids(smith).contains(bobAppt))

            let johnson = try await world.call(.get, path, as: .johnson)
            #expect(johnson.status == .ok)
            #expect(ids(johnson).contains(bobAppt))
            #expect(!ids(johnson).contains(johnAppt))

            let john = try await world.call(.get, path, as: .john)
            #expect(john.status == .ok)
            #expect(ids(john) == [johnAppt])
            #expect(john.items.allSatisfy { $0["patientId"] as? String == demo.john.idText })

            let bob = try await world.call(.get, path, as: .bob)
            #expect(bob.status == .ok)
            #expect(ids(bob) == [bobAppt])

            let jane = try await world.call(.get, path, as: .jane)
            #expect(jane.status == .ok)
            #expect(jane.items.isEmpty)

            // The other practice's admin sees only their own practice.
            let foreign = try await world.call(.get, path, as: .admin, in: other)
            #expect(foreign.status == .ok)
            #expect(ids(foreign).isDisjoint(with: [johnAppt, bobAppt]))
            #expect(foreign.items.allSatisfy { $0["tenantId"] as? String == other.tenantID.idText })
        }
    }

    @Test(arguments: TestBackend.all)
    func therapistListsAppointmentsOfAssignedPatientsWithOtherTherapists(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // Admin books John (Dr. Smith's patient) with Dr. Johnson.
            let cross = try await bookOK(world, patient: demo.john, therapist: demo.johnson, start: slot(day: 12, hour: 9))
            #expect(ids(try await world.call(.get, path, as: .smith)).contains(cross))
            #expect(ids(try await world.call(.get, path, as: .johnson)).contains(cross))
            #expect(ids(try await world.call(.get, path, as: .john)).contains(cross))
            #expect(!ids(try await world.call(.get, path, as: .bob)).contains(cross))
            #expect(!ids(try await world.call(.get, path, as: .jane)).contains(cross))
        }
    }

    // MARK: Filters

    @Test(arguments: TestBackend.all)
    func listFilters(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let a1 = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 30, hour: 10))
            let a2 = try await bookOK(world, patient: demo.jane, therapist: demo.smith, start: slot(day: 31, hour: 10))
            let a3 = try await bookOK(world, patient: demo.bob, therapist: demo.johnson, start: slot(day: 30, hour: 12))
            let past = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: Date().addingTimeInterval(-3 * 86_400))
            let cancelled = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 32, hour: 10))
            let ongoing = try await bookOK(world, patient: demo.jane, therapist: demo.johnson, start: Date().addingTimeInterval(-10 * 60))
            #expect(try await world.call(.patch, "\(path)/\(a2)", as: .admin, json: ["status": "confirmed"]).status == .ok)
            #expect(try await world.call(.delete, "\(path)/\(cancelled)", as: .admin, json: ["reason": "r"]).status == .ok)

            // therapistId
            let byJohnson = try await world.call(.get, "\(path)?therapistId=\(demo.johnson.idText)", as: .admin)
            #expect(byJohnson.status == .ok)
            #expect(byJohnson.items.allSatisfy { $0["therapistId"] as? String == demo.johnson.idText })
            #expect(ids(byJohnson).isSuperset(of: [a3, ongoing, demo.bobAppointment.idText]))
            #expect(ids(byJohnson).isDisjoint(with: [a1, a2, past, cancelled]))

            // patientId
            let byJane = try await world.call(.get, "\(path)?patientId=\(demo.jane.idText)", as: .admin)
            #expect(byJane.status == .ok)
            #expect(ids(byJane) == [a2, ongoing])

            // status
            let confirmed = try await world.call(.get, "\(path)?status=confirmed", as: .admin)
            #expect(confirmed.status == .ok)
            #expect(ids(confirmed) == [a2])
            let cancelledList = try await world.call(.get, "\(path)?status=cancelled", as: .admin)
            #expect(ids(cancelledList) == [cancelled])
            #expect(cancelledList.items.first?["status"] as? String == "cancelled")

            // from / to: starting at or after `from`, before `to`
            let range = try await world.call(.get, "\(path)?from=\(iso(slot(day: 30, hour: 0)))&to=\(iso(slot(day: 31, hour: 0)))", as: .admin)
            #expect(range.status == .ok)
            #expect(ids(range) == [a1, a3])
            let toExclusive = try await world.call(.get, "\(path)?from=\(iso(slot(day: 30, hour: 0)))&to=\(iso(slot(day: 30, hour: 10)))", as: .admin)
            #expect(ids(toExclusive).isEmpty, "to is exclusive: an appointment starting exactly at `to` is not listed")
            let fromInclusive = try await world.call(.get, "\(path)?from=\(iso(slot(day: 30, hour: 10)))&to=\(iso(slot(day: 30, hour: 11)))", as: .admin)
            #expect(ids(fromInclusive) == [a1], "from is inclusive: an appointment starting exactly at `from` is listed")

            // combined filters
            let combined = try await world.call(
                .get, "\(path)?therapistId=\(demo.smith.idText)&patientId=\(demo.john.idText)&status=scheduled&from=\(iso(slot(day: 1, hour: 0)))",
                as: .admin)
            #expect(combined.status == .ok)
            #expect(ids(combined).contains(a1))
            #expect(ids(combined).isDisjoint(with: [a2, a3, past, cancelled]))

            // upcoming=true: not ended yet and not cancelled, ordered by start
            let upcoming = try await world.call(.get, "\(path)?upcoming=true", as: .admin)
            #expect(upcoming.status == .ok)
            let upcomingIDs = ids(upcoming)
            #expect(upcomingIDs.isSuperset(of: [a1, a2, a3, ongoing, demo.johnAppointment.idText, demo.bobAppointment.idText]))
            #expect(!upcomingIDs.contains(past), "a past appointment is not upcoming")
            #expect(!upcomingIDs.contains(cancelled), "a cancelled appointment is not upcoming")
            #expect(isAscendingByStart(upcoming.items))
            let notUpcoming = try await world.call(.get, "\(path)?upcoming=false", as: .admin)
            #expect(ids(notUpcoming).isSuperset(of: [past, cancelled]), "upcoming=false does not filter")

            // Filters never widen a caller's scope.
            let smithBob = try await world.call(.get, "\(path)?patientId=\(demo.bob.idText)", as: .smith)
            #expect(smithBob.status == .ok)
            #expect(smithBob.items.isEmpty)
            let johnOther = try await world.call(.get, "\(path)?patientId=\(demo.jane.idText)", as: .john)
            #expect(johnOther.status == .ok)
            #expect(johnOther.items.isEmpty)
            let johnUpcoming = try await world.call(.get, "\(path)?upcoming=true", as: .john)
            #expect(Set(johnUpcoming.items.compactMap { $0["patientId"] as? String }).isSubset(of: [demo.john.idText]))
            #expect(ids(johnUpcoming).contains(a1))
            #expect(!ids(johnUpcoming).contains(past))
        }
    }

    /// The contract: "`from` and `to` select appointments that start at or after `from`".
    @Test(arguments: TestBackend.all)
    func fromSelectsByStartTimeNotEndTime(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // 09:30-10:20 overlaps 10:00 but starts before it.
            let straddling = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 25, hour: 9, minute: 30))
            let inside = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 25, hour: 11))
            let reply = try await world.call(.get, "\(path)?from=\(iso(slot(day: 25, hour: 10)))&to=\(iso(slot(day: 26, hour: 0)))", as: .admin)
            #expect(reply.status == .ok)
            #expect(ids(reply).contains(inside))
            #expect(!ids(reply).contains(straddling), "an appointment starting before `from` must not be listed")
        }
    }

    // MARK: Pagination

    @Test(arguments: TestBackend.all)
    func paginationFollowsCursorWithoutDuplicatesOrGaps(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // 7 slots, each booked for two therapists at the same instant: ties on startsAt.
            var created: [String] = []
            for i in 0..<7 {
                let start = slot(day: 20, hour: 8 + i)
                created.append(try await bookOK(world, patient: demo.john, therapist: demo.smith, start: start))
                created.append(try await bookOK(world, patient: demo.bob, therapist: demo.johnson, start: start))
            }
            let from = iso(slot(day: 20, hour: 0))

            for limit in [1, 3, 5, 14, 100] {
                let (seen, pages) = try await pageThrough(world, as: .admin, query: "from=\(from)", limit: limit)
                #expect(seen.count == created.count, "limit \(limit): every appointment exactly once")
                #expect(Set(seen).count == seen.count, "limit \(limit): no duplicates")
                #expect(Set(seen) == Set(created), "limit \(limit): none missing")
                #expect(pages == max(1, Int((Double(created.count) / Double(limit)).rounded(.up))), "limit \(limit): page count")
            }

            // A therapist's scope pages the same way.
            let smithOwn = Set(created.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
            let (smithSeen, _) = try await pageThrough(world, as: .smith, query: "from=\(from)", limit: 2)
            #expect(Set(smithSeen) == smithOwn)
            #expect(smithSeen.count == smithOwn.count)

            // And a client's.
            let (johnSeen, _) = try await pageThrough(world, as: .john, query: "from=\(from)", limit: 3)
            #expect(Set(johnSeen) == smithOwn)
            #expect(johnSeen.count == smithOwn.count)
        }
    }

    // MARK: Reading one

    @Test(arguments: TestBackend.all)
    func getIsAllowedOnlyToThoseWhoMaySeeIt(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let john = "\(path)/\(demo.johnAppointment.idText)"
            let bob = "\(path)/\(demo.bobAppointment.idText)"

            for account in [TestWorld.Account.admin, .smith, .john] {
                let r = try await world.call(.get, john, as: account)
                #expect(r.status == .ok, "\(account) GET John's appointment")
                #expect(r.json["id"] as? String == demo.johnAppointment.idText)
                #expect(r.json["patientId"] as? String == demo.john.idText)
                #expect(r.json["therapistId"] as? String == demo.smith.idText)
            }
            for account in [TestWorld.Account.johnson, .jane, .bob] {
                expectProblem(try await world.call(.get, john, as: account), 404, "\(account) GET John's appointment")
            }
            for account in [TestWorld.Account.admin, .johnson, .bob] {
                #expect(try await world.call(.get, bob, as: account).status == .ok, "\(account) GET Bob's appointment")
            }
            for account in [TestWorld.Account.smith, .john, .jane] {
                expectProblem(try await world.call(.get, bob, as: account), 404, "\(account) GET Bob's appointment")
            }
            // Another practice: every role gets 404.
            for account in TestWorld.Account.allCases {
                expectProblem(try await world.call(.get, john, as: account, in: other), 404, "other practice's \(account)")
            }
            // Unknown id.
            expectProblem(try await world.call(.get, "\(path)/\(UUID().idText)", as: .admin), 404, "unknown id")
        }
    }

    // MARK: Booking

    @Test(arguments: TestBackend.all)
    func bookingAllowedAndDeniedPerRole(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // Admin: any therapist, any patient.
            let start = slot(day: 14, hour: 9)
            let admin = try await book(world, as: .admin, patient: demo.bob, therapist: demo.johnson, start: start, reason: "Intake")
            #expect(admin.status == .created)
            #expect(admin.json["status"] as? String == "scheduled")
            #expect(admin.json["patientId"] as? String == demo.bob.idText)
            #expect(admin.json["therapistId"] as? String == demo.johnson.idText)
            #expect(admin.json["tenantId"] as? String == demo.tenantID.idText)
            #expect(admin.json["timeZone"] as? String == "America/New_York")
            #expect(admin.json["kind"] as? String == "televisit")
            #expect(admin.json["reason"] as? String == "Intake")
            #expect(date(admin.json["startsAt"]) == start)
            #expect(date(admin.json["endsAt"]) == start.addingTimeInterval(50 * 60))
            let adminID = try #require(admin.json["id"] as? String)
            #expect(try await world.call(.get, "\(path)/\(adminID)", as: .admin).status == .ok)

            // Dr. Smith books himself with his own patient.
            let smith = try await book(world, as: .smith, patient: demo.john, therapist: demo.smith, start: slot(day: 14, hour: 11), kind: "in_person")
            #expect(smith.status == .created)
            #expect(smith.json["kind"] as? String == "in_person")
            let smithJane = try await book(world, as: .smith, patient: demo.jane, therapist: demo.smith, start: slot(day: 14, hour: 13))
            #expect(smithJane.status == .created)

            // Dr. Smith with a patient who is not his.
            expectProblem(
                try await book(world, as: .smith, patient: demo.bob, therapist: demo.smith, start: slot(day: 14, hour: 15)), 404,
                "Smith booking Bob")
            // Dr. Smith booking Dr. Johnson (for his own patient or not).
            expectProblem(
                try await book(world, as: .smith, patient: demo.john, therapist: demo.johnson, start: slot(day: 14, hour: 16)), 404,
                "Smith booking Dr. Johnson for John")
            expectProblem(
                try await book(world, as: .smith, patient: demo.bob, therapist: demo.johnson, start: slot(day: 14, hour: 17)), 404,
                "Smith booking Dr. Johnson for Bob")
            // Dr. Johnson with Dr. Smith's patient.
            expectProblem(
                try await book(world, as: .johnson, patient: demo.john, therapist: demo.johnson, start: slot(day: 14, hour: 18)), 404,
                "Johnson booking John")
            // Clients may not book at all.
            expectProblem(
                try await book(world, as: .john, patient: demo.john, therapist: demo.smith, start: slot(day: 15, hour: 9)), 404,
                "client John booking himself")
            expectProblem(
                try await book(world, as: .bob, patient: demo.bob, therapist: demo.johnson, start: slot(day: 15, hour: 10)), 404,
                "client Bob booking himself")
            expectProblem(
                try await book(world, as: .jane, patient: demo.jane, therapist: demo.smith, start: slot(day: 15, hour: 10)), 404,
                "client Jane booking herself")
            // Unknown patient, and another practice's patient.
            expectProblem(
                try await book(world, as: .admin, patient: UUID(), therapist: demo.smith, start: slot(day: 15, hour: 11)), 404,
                "unknown patient")
            expectProblem(
                try await book(world, as: .admin, patient: other.john, therapist: demo.smith, start: slot(day: 15, hour: 12)), 404,
                "other practice's patient")
            expectProblem(
                try await book(world, as: .admin, in: other, patient: demo.john, therapist: other.smith, start: slot(day: 15, hour: 13)),
                404, "other practice's admin booking a demo patient")
            // Unknown therapist / another practice's therapist: never booked.
            for therapist in [UUID(), other.smith, demo.admin] {
                let r = try await book(world, as: .admin, patient: demo.john, therapist: therapist, start: slot(day: 15, hour: 14))
                #expect([404, 422].contains(r.status.code), "therapist \(therapist): got \(r.status.code)")
            }

            // None of the denied requests left an appointment behind.
            let all = try await world.call(.get, "\(path)?from=\(iso(slot(day: 14, hour: 0)))", as: .admin)
            #expect(Set(ids(all)) == Set([adminID, smith.json["id"] as? String ?? "", smithJane.json["id"] as? String ?? ""]))
        }
    }

    @Test(arguments: TestBackend.all)
    func bookingValidation(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let start = slot(day: 16, hour: 9)
            // endsAt before / equal to startsAt
            expectProblem(try await book(world, start: start, end: start.addingTimeInterval(-60)), 422, field: "endsAt", "end before start")
            expectProblem(try await book(world, start: start, end: start), 422, field: "endsAt", "end == start")
            // 9 hours
            expectProblem(try await book(world, start: start, end: start.addingTimeInterval(9 * 3600)), 422, field: "endsAt", "9 hours")
            // bad time zones
            for zone in ["Mars/Olympus_Mons", "America/Gotham", "Not a zone"] {
                expectProblem(try await book(world, start: start, timeZone: zone), 422, field: "timeZone", "zone \(zone)")
            }
            // every bad field at once
            let both = try await book(world, start: start, end: start.addingTimeInterval(-60), timeZone: "America/Gotham")
            expectProblem(both, 422, field: "endsAt", "both bad")
            #expect(both.problemFields.contains("timeZone"))
            // reason too long
            expectProblem(try await book(world, start: start, reason: String(repeating: "r", count: 2001)), 422, field: "reason", "long reason")
            // Nothing was stored by the failures.
            let listed = try await world.call(.get, "\(path)?from=\(iso(slot(day: 16, hour: 0)))", as: .admin)
            #expect(listed.items.isEmpty)

            // Exactly 8 hours is allowed; a non-UTC offset is accepted and stored as the same instant.
            let eight = try await book(world, start: start, end: start.addingTimeInterval(8 * 3600), timeZone: "Europe/Berlin")
            #expect(eight.status == .created)
            #expect(eight.json["timeZone"] as? String == "Europe/Berlin")
            let offsetBody: [String: Any] = [
                "patientId": demo.jane.idText, "therapistId": demo.johnson.idText, "startsAt": "2099-01-05T10:00:00-05:00",
                "endsAt": "2099-01-05T10:50:00-05:00", "timeZone": "America/New_York", "kind": "in_person",
            ]
            let offset = try await world.call(.post, path, as: .admin, json: offsetBody)
            #expect(offset.status == .created)
            #expect(date(offset.json["startsAt"]) == date("2099-01-05T15:00:00Z"))
        }
    }

    @Test(arguments: TestBackend.all)
    func dischargedPatientsTakeNoNewAppointments(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let discharge = try await world.call(.delete, "/api/v1/patients/\(demo.jane.idText)", as: .admin, json: ["reason": "Moved away"])
            #expect(discharge.status == .ok)
            for account in [TestWorld.Account.admin, .smith] {
                let r = try await book(world, as: account, patient: demo.jane, therapist: demo.smith, start: slot(day: 17, hour: 9))
                #expect([404, 422].contains(r.status.code), "\(account) booking a discharged patient: \(r.status.code) \(r.text)")
                expectProblem(r, r.status.code, "\(account) booking a discharged patient")
            }
            #expect(try await world.call(.get, "\(path)?patientId=\(demo.jane.idText)", as: .admin).items.isEmpty)
        }
    }

    // MARK: Double-booking

    @Test(arguments: TestBackend.all)
    func doubleBookingIsRefusedWithTheConflictingID(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let start = slot(day: 18, hour: 10)
            let existing = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: start)

            // Same slot, partial overlaps, containment, enclosing: all 409 naming the existing appointment.
            let overlapping: [(Date, Int)] = [
                (start, 50), (start.addingTimeInterval(30 * 60), 50), (start.addingTimeInterval(-30 * 60), 50),
                (start.addingTimeInterval(10 * 60), 10), (start.addingTimeInterval(-60 * 60), 180),
            ]
            for (s, minutes) in overlapping {
                for account in [TestWorld.Account.admin, .smith] {
                    let r = try await book(world, as: account, patient: demo.jane, therapist: demo.smith, start: s, minutes: minutes)
                    expectProblem(r, 409, "\(account) overlapping \(iso(s)) for \(minutes) min")
                    #expect(r.json["conflictingAppointmentId"] as? String == existing)
                }
            }
            // Another therapist at the same time is fine.
            #expect(try await book(world, patient: demo.bob, therapist: demo.johnson, start: start).status == .created)
            // Back-to-back on either side is fine (end == start).
            #expect(try await book(world, patient: demo.jane, therapist: demo.smith, start: start.addingTimeInterval(50 * 60)).status == .created)
            #expect(try await book(world, patient: demo.jane, therapist: demo.smith, start: start.addingTimeInterval(-50 * 60)).status == .created)
            // But now the gap-free day is full.
            #expect(try await book(world, patient: demo.jane, therapist: demo.smith, start: start.addingTimeInterval(49 * 60)).status == .conflict)
        }
    }

    @Test(arguments: TestBackend.all)
    func cancellingFreesTheSlotAndKeepsTheRecord(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let start = slot(day: 19, hour: 10)
            let first = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: start)
            #expect(try await book(world, patient: demo.jane, therapist: demo.smith, start: start).status == .conflict)

            let cancelled = try await world.call(.delete, "\(path)/\(first)", as: .smith, json: ["reason": "Client called to cancel"])
            #expect(cancelled.status == .ok)
            #expect(cancelled.json["status"] as? String == "cancelled")
            #expect(cancelled.json["cancellationReason"] as? String == "Client called to cancel")

            // The same time can be booked again.
            let again = try await book(world, patient: demo.jane, therapist: demo.smith, start: start)
            #expect(again.status == .created)
            let againID = try #require(again.json["id"] as? String)

            // The cancelled appointment is still retrievable, and still cancelled.
            let kept = try await world.call(.get, "\(path)/\(first)", as: .admin)
            #expect(kept.status == .ok)
            #expect(kept.json["status"] as? String == "cancelled")
            #expect(ids(try await world.call(.get, "\(path)?status=cancelled", as: .admin)) == [first])

            // A cancelled appointment cannot be revived into the now-taken slot, nor rescheduled.
            expectProblem(try await world.call(.patch, "\(path)/\(first)", as: .admin, json: ["status": "scheduled"]), 409, "revive cancelled")
            expectProblem(
                try await world.call(
                    .patch, "\(path)/\(first)", as: .admin,
                    json: [
                        "startsAt": iso(start.addingTimeInterval(86_400)),
                        "endsAt": iso(start.addingTimeInterval(86_400 + 3000)),
                    ]),
                409, "reschedule cancelled")
            #expect(try await world.call(.get, "\(path)/\(againID)", as: .admin).json["status"] as? String == "scheduled")
        }
    }

    /// Contract: "Only `scheduled` and `confirmed` appointments can be cancelled; any other status gets `409`."
    @Test(arguments: TestBackend.all)
    func cancellingACancelledAppointmentIs409(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let appt = "\(path)/\(demo.johnAppointment.idText)"
            #expect(try await world.call(.delete, appt, as: .smith, json: ["reason": "first"]).status == .ok)
            expectProblem(try await world.call(.delete, appt, as: .admin, json: ["reason": "again"]), 409, "cancel an already cancelled appointment")
            #expect(try await world.call(.get, appt, as: .admin).json["cancellationReason"] as? String == "first", "the first reason is kept")
        }
    }

    /// Contract: "The request body is optional" on DELETE /appointments/{id}.
    @Test(arguments: TestBackend.all)
    func cancellingWithoutABody(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let johnAppt = "\(path)/\(demo.johnAppointment.idText)"
            for account in [TestWorld.Account.johnson, .john, .jane, .bob] {
                expectProblem(try await world.call(.delete, johnAppt, as: account), 404, "\(account) cancelling John's appointment without a body")
            }
            let plain = try await world.call(.delete, johnAppt, as: .smith)
            #expect(plain.status == .ok, "therapist cancelling without a body: \(plain.status.code) \(plain.text)")
            #expect(plain.json["status"] as? String == "cancelled")
            let byAdmin = try await world.call(.delete, "\(path)/\(demo.bobAppointment.idText)", as: .admin)
            #expect(byAdmin.status == .ok, "admin cancelling without a body: \(byAdmin.status.code) \(byAdmin.text)")
        }
    }

    @Test(arguments: TestBackend.all)
    func cancelAllowedAndDeniedPerRole(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let johnAppt = "\(path)/\(demo.johnAppointment.idText)"
            for account in [TestWorld.Account.johnson, .john, .jane, .bob] {
                expectProblem(try await world.call(.delete, johnAppt, as: account, json: ["reason": "r"]), 404, "\(account) cancelling John's appointment")
            }
            expectProblem(try await world.call(.delete, johnAppt, as: .admin, in: other, json: ["reason": "r"]), 404, "other practice's admin cancelling")
            #expect(try await world.call(.get, johnAppt, as: .admin).json["status"] as? String == "scheduled", "denied cancels changed nothing")
            // The appointment's therapist may cancel it; so may the admin (Bob's).
            #expect(try await world.call(.delete, johnAppt, as: .smith, json: ["reason": "r"]).status == .ok)
            #expect(try await world.call(.delete, "\(path)/\(demo.bobAppointment.idText)", as: .admin, json: ["reason": "r"]).status == .ok)
        }
    }

    // MARK: Changing

    @Test(arguments: TestBackend.all)
    func patchAllowedAndDeniedPerRole(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let johnAppt = "\(path)/\(demo.johnAppointment.idText)"
            for account in [TestWorld.Account.johnson, .john, .jane, .bob] {
                expectProblem(try await world.call(.patch, johnAppt, as: account, json: ["reason": "changed"]), 404, "\(account) PATCH John's")
            }
            expectProblem(try await world.call(.patch, johnAppt, as: .admin, in: other, json: ["reason": "changed"]), 404, "other practice's admin")
            #expect(try await world.call(.get, johnAppt, as: .admin).json["reason"] as? String == "Weekly therapy session")

            let bySmith = try await world.call(.patch, johnAppt, as: .smith, json: ["reason": "Changed by Smith", "kind": "in_person"])
            #expect(bySmith.status == .ok)
            #expect(bySmith.json["reason"] as? String == "Changed by Smith")
            #expect(bySmith.json["kind"] as? String == "in_person")
            let byAdmin = try await world.call(.patch, johnAppt, as: .admin, json: ["timeZone": "America/Chicago"])
            #expect(byAdmin.status == .ok)
            #expect(byAdmin.json["timeZone"] as? String == "America/Chicago")
            #expect(byAdmin.json["reason"] as? String == "Changed by Smith", "fields left out are unchanged")

            // Dr. Smith can SEE an appointment of his patient with Dr. Johnson, but only its own therapist changes it.
            let cross = try await bookOK(world, patient: demo.john, therapist: demo.johnson, start: slot(day: 22, hour: 9))
            #expect(try await world.call(.get, "\(path)/\(cross)", as: .smith).status == .ok)
            expectProblem(
                try await world.call(.patch, "\(path)/\(cross)", as: .smith, json: ["status": "confirmed"]), 404,
                "assigned therapist PATCHing another therapist's appointment")
            expectProblem(
                try await world.call(.delete, "\(path)/\(cross)", as: .smith, json: ["reason": "r"]), 404,
                "assigned therapist cancelling another therapist's appointment")
            #expect(try await world.call(.patch, "\(path)/\(cross)", as: .johnson, json: ["status": "confirmed"]).status == .ok)
        }
    }

    @Test(arguments: TestBackend.all)
    func statusTransitions(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let a = "\(path)/\(try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 23, hour: 9)))"
            func status(_ s: String) async throws -> Reply { try await world.call(.patch, a, as: .smith, json: ["status": s]) }

            #expect(try await status("confirmed").json["status"] as? String == "confirmed")
            #expect(try await status("scheduled").json["status"] as? String == "scheduled")
            expectProblem(try await status("in_progress"), 409, "in_progress only through startTelevisit")
            #expect(try await status("completed").json["status"] as? String == "completed")
            expectProblem(try await status("scheduled"), 409, "completed -> scheduled")
            expectProblem(try await status("confirmed"), 409, "completed -> confirmed")
            expectProblem(try await status("cancelled"), 409, "completed -> cancelled")
            expectProblem(try await status("no_show"), 409, "completed -> no_show")
            expectProblem(try await world.call(.patch, a, as: .smith, json: ["reason": "late edit"]), 409, "edit a completed appointment")
            expectProblem(try await world.call(.delete, a, as: .smith, json: ["reason": "r"]), 409, "cancel a completed appointment")
            #expect(try await world.call(.get, a, as: .admin).json["status"] as? String == "completed")

            let b = "\(path)/\(try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 23, hour: 11)))"
            #expect(try await world.call(.patch, b, as: .admin, json: ["status": "no_show"]).json["status"] as? String == "no_show")
            expectProblem(try await world.call(.patch, b, as: .admin, json: ["status": "scheduled"]), 409, "no_show -> scheduled")
            expectProblem(try await world.call(.delete, b, as: .admin, json: ["reason": "r"]), 409, "cancel a no-show")

            let c = "\(path)/\(try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 23, hour: 13)))"
            #expect(try await world.call(.patch, c, as: .smith, json: ["status": "confirmed"]).status == .ok)
            let viaPatch = try await world.call(.patch, c, as: .smith, json: ["status": "cancelled"])
            #expect(viaPatch.status == .ok)
            #expect(viaPatch.json["status"] as? String == "cancelled")
        }
    }

    @Test(arguments: TestBackend.all)
    func rescheduling(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let start = slot(day: 24, hour: 9)
            let a = try await bookOK(world, patient: demo.john, therapist: demo.smith, start: start)
            let b = try await bookOK(world, patient: demo.jane, therapist: demo.smith, start: start.addingTimeInterval(2 * 3600))

            // Into b's time: 409 naming b.
            let clash = try await world.call(
                .patch, "\(path)/\(a)", as: .smith,
                json: ["startsAt": iso(start.addingTimeInterval(2 * 3600 + 600)), "endsAt": iso(start.addingTimeInterval(3 * 3600))])
            expectProblem(clash, 409, "reschedule into a conflict")
            #expect(clash.json["conflictingAppointmentId"] as? String == b)
            // Only moving the end so it overlaps b.
            let stretch = try await world.call(.patch, "\(path)/\(a)", as: .admin, json: ["endsAt": iso(start.addingTimeInterval(2 * 3600 + 1))])
            expectProblem(stretch, 409, "stretch into a conflict")
            #expect(stretch.json["conflictingAppointmentId"] as? String == b)
            // Unchanged after the refusals.
            let unchanged = try await world.call(.get, "\(path)/\(a)", as: .admin)
            #expect(date(unchanged.json["startsAt"]) == start)
            #expect(date(unchanged.json["endsAt"]) == start.addingTimeInterval(50 * 60))

            // Changing only the reason does not conflict with itself; moving within its own slot neither.
            #expect(try await world.call(.patch, "\(path)/\(a)", as: .smith, json: ["reason": "same slot"]).status == .ok)
            #expect(try await world.call(.patch, "\(path)/\(a)", as: .smith, json: ["endsAt": iso(start.addingTimeInterval(60 * 60))]).status == .ok)
            // Back-to-back with b is fine.
            let adjacent = try await world.call(
                .patch, "\(path)/\(a)", as: .smith,
                json: ["startsAt": iso(start.addingTimeInterval(3600)), "endsAt": iso(start.addingTimeInterval(2 * 3600))])
            #expect(adjacent.status == .ok)
            #expect(date(adjacent.json["startsAt"]) == start.addingTimeInterval(3600))

            // Validation on PATCH: end before start, too long, bad zone.
            expectProblem(try await world.call(.patch, "\(path)/\(a)", as: .smith, json: ["endsAt": iso(start)]), 422, field: "endsAt", "end before start")
            expectProblem(
                try await world.call(.patch, "\(path)/\(a)", as: .smith, json: ["endsAt": iso(start.addingTimeInterval(3600 + 9 * 3600))]),
                422, field: "endsAt", "9 hours")
            expectProblem(try await world.call(.patch, "\(path)/\(a)", as: .smith, json: ["timeZone": "Europe/Atlantis"]), 422, field: "timeZone", "bad zone")

            // The freed original slot can be booked by someone else.
            #expect(try await book(world, patient: demo.jane, therapist: demo.smith, start: start).status == .created)
        }
    }

    // MARK: Concurrency

    @Test(arguments: TestBackend.all)
    func simultaneousBookingsOfOneSlotLetExactlyOneWin(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let start = slot(day: 40, hour: 10)
            let token = try await world.token(.admin)
            let (startText, endText) = (iso(start), iso(start.addingTimeInterval(50 * 60)))
            let patients = [demo.john, demo.jane].map(\.idText)
            let therapist = demo.smith.idText
            let path = self.path
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        let body: [String: Any] = [
                            "patientId": patients[i % 2], "therapistId": therapist, "startsAt": startText,
                            "endsAt": endText, "timeZone": "America/New_York", "kind": "televisit",
                        ]
                        return try await world.call(.post, path, token: token, json: body)
                    }
                }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            let codes = replies.map(\.status.code).sorted()
            #expect(codes == [201] + Array(repeating: 409, count: 9), "statuses: \(codes)")
            let winner = try #require(replies.first { $0.status == .created }?.json["id"] as? String)
            for loser in replies where loser.status == .conflict {
                #expect(loser.json["conflictingAppointmentId"] as? String == winner)
            }
            let stored = try await world.call(.get, "\(path)?from=\(iso(slot(day: 40, hour: 0)))&to=\(iso(slot(day: 41, hour: 0)))", as: .admin)
            #expect(ids(stored) == [winner])
        }
    }

    @Test(arguments: TestBackend.all)
    func simultaneousReschedulesIntoOneSlotLetExactlyOneWin(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            var booked: [String] = []
            for i in 0..<6 { booked.append(try await bookOK(world, patient: demo.john, therapist: demo.smith, start: slot(day: 41, hour: 8 + i))) }
            let target = slot(day: 42, hour: 10)
            let token = try await world.token(.smith)
            let (startText, endText) = (iso(target), iso(target.addingTimeInterval(50 * 60)))
            let path = self.path
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for id in booked {
                    group.addTask { try await world.call(.patch, "\(path)/\(id)", token: token, json: ["startsAt": startText, "endsAt": endText]) }
                }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            let codes = replies.map(\.status.code).sorted()
            #expect(codes == [200] + Array(repeating: 409, count: 5), "statuses: \(codes)")
            let stored = try await world.call(.get, "\(path)?from=\(iso(slot(day: 42, hour: 0)))&to=\(iso(slot(day: 43, hour: 0)))", as: .admin)
            #expect(stored.items.count == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func unauthenticatedCallsGet401(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let one = "\(path)/\(demo.johnAppointment.idText)"
            let start = slot(day: 50, hour: 9)
            let validBody: [String: Any] = [
                "patientId": demo.john.idText, "therapistId": demo.smith.idText, "startsAt": iso(start),
                "endsAt": iso(start.addingTimeInterval(3000)), "timeZone": "UTC", "kind": "televisit",
            ]
            let calls: [(HTTPRequest.Method, String)] = [(.get, path), (.post, path), (.get, one), (.patch, one), (.delete, one)]
            for (method, p) in calls {
                let body: Any? =
                    switch method {
                    case .get: nil
                    case .post: validBody
                    default: ["reason": "x"]
                    }
                let r = try await world.call(method, p, json: body)
                expectProblem(r, 401, "\(method) \(p) without a token")
                let bad = try await world.call(method, p, token: "not.a.token", json: body)
                expectProblem(bad, 401, "\(method) \(p) with a garbage token")
            }
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

    /// Midnight UTC `day` days from today, plus the given time.
    private func slot(day: Int, hour: Int, minute: Int = 0) -> Date {
        let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        return Date(timeIntervalSince1970: today + Double(day * 86_400 + hour * 3600 + minute * 60))
    }

    private func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    private func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    private func ids(_ reply: Reply) -> Set<String> { Set(reply.items.compactMap { $0["id"] as? String }) }

    private func isAscendingByStart(_ items: [[String: Any]]) -> Bool {
        let starts = items.compactMap { date($0["startsAt"]) }
        return starts.count == items.count && zip(starts, starts.dropFirst()).allSatisfy { $0 <= $1 }
    }

    private func book(
        _ world: TestWorld, as account: TestWorld.Account = .admin, in practice: TestWorld.Practice = TestWorld.demo,
        patient: UUID = TestWorld.demo.john, therapist: UUID = TestWorld.demo.smith, start: Date, minutes: Int = 50, end: Date? = nil,
        timeZone: String = "America/New_York", kind: String = "televisit", reason: String? = nil
    ) async throws -> Reply {
        var body: [String: Any] = [
            "patientId": patient.idText, "therapistId": therapist.idText, "startsAt": iso(start),
            "endsAt": iso(end ?? start.addingTimeInterval(Double(minutes * 60))), "timeZone": timeZone, "kind": kind,
        ]
        if let reason { body["reason"] = reason }
        return try await world.call(.post, path, as: account, in: practice, json: body)
    }

    /// Books as admin and returns the new id (the test stops if booking fails).
    private func bookOK(
        _ world: TestWorld, patient: UUID, therapist: UUID, start: Date, minutes: Int = 50,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await book(world, patient: patient, therapist: therapist, start: start, minutes: minutes)
        #expect(reply.status == .created, "booking failed: \(reply.status.code) \(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply.json["id"] as? String, sourceLocation: sourceLocation)
    }

    /// Follows `nextCursor` to the end; checks page sizes, order and the final null cursor.
    private func pageThrough(
        _ world: TestWorld, as account: TestWorld.Account, query: String, limit: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ([String], Int) {
        var seen: [String] = []
        var starts: [Date] = []
        var cursor: String?
        var pages = 0
        repeat {
            var url = "\(path)?limit=\(limit)&\(query)"
            if let cursor { url += "&cursor=\(cursor)" }
            let reply = try await world.call(.get, url, as: account)
            try #require(reply.status == .ok, "page \(pages): \(reply.status.code) \(reply.text)", sourceLocation: sourceLocation)
            pages += 1
            #expect(reply.items.count <= limit, sourceLocation: sourceLocation)
            seen += reply.items.compactMap { $0["id"] as? String }
            starts += reply.items.compactMap { date($0["startsAt"]) }
            #expect(reply.json.keys.contains("nextCursor"), "nextCursor must always be present", sourceLocation: sourceLocation)
            if let next = reply.json["nextCursor"] as? String {
                #expect(reply.items.count == limit, "a page with a next cursor is full", sourceLocation: sourceLocation)
                cursor = next
            } else {
                #expect(reply.json["nextCursor"] is NSNull, "nextCursor is JSON null on the last page", sourceLocation: sourceLocation)
                cursor = nil
            }
        } while cursor != nil && pages < 100
        #expect(zip(starts, starts.dropFirst()).allSatisfy { $0 <= $1 }, "ordered by startsAt across pages", sourceLocation: sourceLocation)
        return (seen, pages)
    }

}

private extension UUID {
    var idText: String { uuidString.lowercased() }
}
