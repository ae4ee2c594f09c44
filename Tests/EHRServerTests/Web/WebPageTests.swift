import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EHRServer

/// The web app over HTTP: sessions, CSRF, escaping, the 404 page and the audit of page views.
/// (Flows in a real browser are in Tests/Browser.)
@Suite("Web pages", .serialized) struct WebPageTests {
    @Test(arguments: TestBackend.all)
    func pagesNeedASessionAndSignInStartsOne(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let browser = TestBrowser(world)
            let anonymous = try await browser.get("/app/schedule")
            #expect(anonymous.status == .seeOther && anonymous.headers[.location] == "/app/login")
            let form = try await browser.get("/app/login")
            #expect(form.status == .ok && form.text.contains("name=\"tenant\"") && form.text.contains("<label for=\"password\">"))
            let signIn = try await browser.signIn("dr.smith@demo.test")
            #expect(signIn.status == .seeOther, "\(signIn.text)")
            let cookie = try #require(signIn.headers[values: .setCookie].first { $0.hasPrefix("__Host-ehr_session=") })
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] { #expect(cookie.contains(attribute), "\(attribute)") }
            // The week holding the seeded appointment ("tomorrow" in UTC), in the practice's zone: today's week is
            // not it when New York's today is the week's last day.
            let seeded = try await DatabaseScope.$current.withValue(.tenant(TestWorld.demo.tenantID)) {
                try await world.services.store.find(id: TestWorld.demo.johnAppointment, tenantID: TestWorld.demo.tenantID) as Appointment?
            }
            let day = WebFormat.isoDay(try #require(seeded).startsAt, in: TimeZone(identifier: "America/New_York")!)
            let schedule = try await browser.get("/app/schedule?view=week&date=\(day)")
            #expect(schedule.status == .ok)
            #expect(schedule.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(!(schedule.headers[.contentSecurityPolicy] ?? "").contains("unsafe-inline"))
            #expect(schedule.headers[.cacheControl] == "no-store")
            #expect(schedule.text.contains("John Doe"), "the seeded appointment is on the week")
            let events = try await world.storedEvents().filter { $0.action == "auth.login" }
            #expect(events.last?.actor_id == TestWorld.demo.smith.wire && events.last?.outcome == "allowed")
        }
    }

    @Test(arguments: TestBackend.all)
    func signInShowsTheAPIsMessagesAndLockout(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let browser = TestBrowser(world)
            for _ in 0..<5 {
                let wrong = try await browser.signIn("dr.smith@demo.test", password: "not-the-password")
                #expect(wrong.status == .unauthorized && wrong.text.contains("not right"))
            }
            let locked = try await browser.signIn("dr.smith@demo.test")
            #expect(locked.status == .tooManyRequests && locked.text.contains("try again in"))
            #expect(browser.cookies["__Host-ehr_session"] == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func formsWithoutThisSessionsTokenChangeNothing(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let smith = TestBrowser(world)
            try await smith.session(.smith)
            let other = TestBrowser(world)
            try await other.session(.smith)
            let otherToken = try #require(TestBrowser.csrf(in: try await other.get("/app/schedule").text))
            let ownToken = try #require(TestBrowser.csrf(in: try await smith.get("/app/schedule").text))
            #expect(ownToken != otherToken)
            let fields = [("patientId", d.john.wire), ("type", "progress"), ("section.narrative", "Forged note")]
            func notes() async throws -> Int { try await world.call(.get, "/api/v1/notes?patientId=\(d.john.wire)", as: .smith).items.count }
            let before = try await notes()
            #expect(try await smith.post("/app/notes", fields).status == .forbidden, "no token")
            #expect(try await smith.post("/app/notes", fields + [("_csrf", otherToken)]).status == .forbidden, "another session's token")
            #expect(try await smith.post("/app/logout", [("_csrf", otherToken)]).status == .forbidden)
            #expect(try await notes() == before, "nothing was written")
            let created = try await smith.post("/app/notes", fields + [("_csrf", ownToken)])
            #expect(created.status == .seeOther && created.headers[.location]?.hasPrefix("/app/notes/") == true)
            #expect(try await notes() == before + 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func aPageViewRecordsTheEventOfTheEqualAPIRead(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let browser = TestBrowser(world)
            try await browser.session(.smith)
            func lastEvent() async throws -> TestWorld.StoredEvent { try #require(try await world.storedEvents().last) }
            _ = try await world.call(.get, "/api/v1/patients/\(d.john.wire)", as: .smith)
            let api = try await lastEvent()
            #expect(try await browser.get("/app/patients/\(d.john.wire)").status == .ok)
            let page = try await lastEvent()
            #expect(page.action == api.action && page.patient_id == api.patient_id && page.actor_id == api.actor_id && page.outcome == "allowed")
            _ = try await world.call(.get, "/api/v1/notes/\(d.johnSignedNote.wire)", as: .smith)
            let apiNote = try await lastEvent()
            #expect(try await browser.get("/app/notes/\(d.johnSignedNote.wire)").status == .ok)
            let pageNote = try await lastEvent()
            #expect(pageNote.action == apiNote.action && pageNote.patient_id == apiNote.patient_id)
            // A refused page view is recorded as denied, like the API's.
            #expect(try await browser.get("/app/patients/\(d.bob.wire)").status == .notFound)
            #expect(try await lastEvent().outcome == "denied")
        }
    }

    @Test(arguments: TestBackend.all)
    func aScriptNamedPatientIsShownAsText(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let name = "<img src=x onerror=alert(1)>"
            let created = try await world.call(
                .post, "/api/v1/patients", as: .admin,
                json: [
                    "firstName": name, "lastName": "\"><script>alert(2)</script>", "dateOfBirth": "1990-01-01",
                    "assignedTherapistId": TestWorld.demo.smith.wire,
                ])
            let id = try #require((created.json["patient"] as? [String: Any])?["id"] as? String, "\(created.text)")
            let browser = TestBrowser(world)
            try await browser.session(.smith)
            for path in ["/app/patients", "/app/patients/\(id)", "/app/appointments/new"] {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"), "\(path): the name is shown as text")
                #expect(!page.text.contains("<img src=x") && !page.text.contains("<script>alert"), "\(path): markup escaped")
                let title = page.text.components(separatedBy: "<title>").dropFirst().first?.components(separatedBy: "</title>").first ?? ""
                #expect(!title.contains("img") && !title.contains("Doe"), "\(path): no PHI in the title")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func foreignAndMissingRecordsShowTheSame404Page(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let browser = TestBrowser(world)
            try await browser.session(.smith)
            let missing = try await browser.get("/app/patients/\(UUID().wire)")
            let otherPatient = try await browser.get("/app/patients/\(TestWorld.demo.bob.wire)")
            let otherPractice = try await browser.get("/app/patients/\(TestWorld.other.john.wire)")
            let otherNote = try await browser.get("/app/notes/\(TestWorld.other.johnSignedNote.wire)")
            let malformed = try await browser.get("/app/notes/not-an-id")
            for reply in [missing, otherPatient, otherPractice, otherNote, malformed] {
                #expect(reply.status == .notFound)
                #expect(reply.text == missing.text)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func logoutDeactivationAndIdlenessEndTheSession(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let sql = world.services.database.sql
            let browser = TestBrowser(world)
            try await browser.session(.johnson)
            let cookie = try #require(browser.cookies["__Host-ehr_session"])
            let token = try #require(TestBrowser.csrf(in: try await browser.get("/app/schedule").text))
            #expect(try await browser.post("/app/logout", [("_csrf", token)]).headers[.location] == "/app/login")
            browser.setCookie("__Host-ehr_session", cookie)
            #expect(try await browser.get("/app/schedule").status == .seeOther, "the old cookie is dead")

            try await browser.session(.johnson)
            #expect(try await browser.get("/app/schedule").status == .ok)
            _ = try await world.call(.delete, "/api/v1/providers/\(TestWorld.demo.johnson.wire)", as: .admin)
            #expect(try await browser.get("/app/schedule").status == .seeOther, "deactivation ends the session")

            let smith = TestBrowser(world)
            try await smith.session(.smith)
            try await sql.raw("UPDATE web_sessions SET last_seen_at = \(bind: Date().addingTimeInterval(-16 * 60))").run()
            #expect(try await smith.get("/app/schedule").status == .seeOther, "15 minutes idle")
            try await smith.session(.smith)
            try await sql.raw("UPDATE web_sessions SET created_at = \(bind: Date().addingTimeInterval(-12 * 3600 - 60))").run()
            #expect(try await smith.get("/app/schedule").status == .seeOther, "12 hours in all")
        }
    }

    @Test(arguments: TestBackend.all)
    func clientsSeeSignedNotesNeverDrafts(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let draft = try await world.call(
                .post, "/api/v1/notes", as: .smith, json: ["patientId": d.john.wire, "type": "progress", "sections": ["narrative": "Private draft"]])
            let draftID = try #require(draft.json["id"] as? String)
            let john = TestBrowser(world)
            try await john.session(.john)
            let notes = try await john.get("/app/portal/notes")
            #expect(notes.status == .ok && notes.text.contains(d.johnSignedNote.wire) && !notes.text.contains(draftID))
            #expect(try await john.get("/app/notes/\(d.johnSignedNote.wire)").status == .ok)
            #expect(try await john.get("/app/notes/\(draftID)").status == .notFound)
            #expect(try await john.get("/app/portal").status == .ok)
            #expect(try await john.get("/app/patients/\(d.jane.wire)").status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func chartListsPageAndAdminsInviteAndAssign(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            for i in 0..<21 {
                let made = try await world.call(
                    .post, "/api/v1/notes", as: .smith, json: ["patientId": d.jane.wire, "type": "progress", "sections": ["narrative": "Session \(i)"]])
                #expect(made.status == .created)
            }
            let smith = TestBrowser(world)
            try await smith.session(.smith)
            let first = try await smith.get("/app/patients/\(d.jane.wire)")
            let next = try #require(
                first.text.components(separatedBy: "href=\"").first { $0.hasPrefix("/app/patients/\(d.jane.wire)?notes=") }?
                    .components(separatedBy: "\"").first)
            let second = try await smith.get(next.replacingOccurrences(of: "&amp;", with: "&"))
            #expect(second.status == .ok)
            func noteLinks(_ html: String) -> Set<String> {
                Set(html.components(separatedBy: "href=\"/app/notes/").dropFirst().map { String($0.prefix(36)) })
            }
            #expect(noteLinks(first.text).count == 20 && noteLinks(second.text).count == 1)
            #expect(noteLinks(first.text).isDisjoint(with: noteLinks(second.text)))

            let admin = TestBrowser(world)
            try await admin.session(.admin)
            let token = try #require(TestBrowser.csrf(in: try await admin.get("/app/staff").text))
            let invited = try await admin.post(
                "/app/staff/admins", [("_csrf", token), ("adminName", "Second Admin"), ("adminEmail", "second.admin@demo.test")])
            #expect(invited.status == .ok && invited.text.contains("/app/accept-invite?token="))
            let refused = try await admin.post("/app/staff/admins", [("_csrf", token), ("adminName", ""), ("adminEmail", "not-an-email")])
            #expect(refused.status == .unprocessableContent && refused.text.contains("id=\"adminEmail-error\""))
            let moved = try await admin.post("/app/patients/\(d.jane.wire)/assign", [("_csrf", token), ("assignedTherapistId", d.johnson.wire)])
            #expect(moved.status == .seeOther)
            #expect(try await smith.get("/app/patients/\(d.jane.wire)").status == .notFound, "Jane moved to Dr. Johnson")
        }
    }

    @Test(arguments: TestBackend.all)
    func therapistAndAdminActionsWorkThroughTheirForms(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let smith = TestBrowser(world)
            try await smith.session(.smith)
            let appointmentPage = try await smith.get("/app/appointments/\(d.johnAppointment.wire)")
            #expect(appointmentPage.status == .ok && appointmentPage.text.contains("Reschedule"))
            let token = try #require(TestBrowser.csrf(in: appointmentPage.text))
            // Reschedule to a day far ahead (its own zone), then start the televisit, then cancel with a reason.
            let moved = try await smith.post(
                "/app/appointments/\(d.johnAppointment.wire)", [("_csrf", token), ("start", "2031-03-04T09:30"), ("minutes", "45")])
            #expect(moved.status == .seeOther, "\(moved.text)")
            let stored = try #require(try await world.services.store.find(id: d.johnAppointment, tenantID: d.tenantID) as Appointment?)
            #expect(stored.endsAt.timeIntervalSince(stored.startsAt) == 45 * 60)
            let televisit = try await smith.post("/app/appointments/\(d.johnAppointment.wire)/televisit", [("_csrf", token)])
            #expect(televisit.status == .ok && televisit.text.contains("/rooms/"), "the join link is shown")
            let booked = try await world.call(
                .post, "/api/v1/appointments", as: .smith,
                json: [
                    "patientId": d.jane.wire, "therapistId": d.smith.wire, "startsAt": "2031-05-01T14:00:00Z", "endsAt": "2031-05-01T14:50:00Z",
                    "timeZone": "America/New_York", "kind": "in_person",
                ])
            let bookedID = try #require(booked.json["id"] as? String, "\(booked.text)")
            let cancelled = try await smith.post("/app/appointments/\(bookedID)/cancel", [("_csrf", token), ("reason", "Client is unwell")])
            #expect(cancelled.status == .seeOther)
            #expect(try await smith.get("/app/appointments/\(bookedID)").text.contains("Client is unwell"))

            // Exact searches through the blind indexes, from the patients page.
            for (by, term) in [("email", "john.doe@demo.test"), ("phone", "+1-555-0101"), ("dob", "Doe 1985-04-12")] {
                let found = try await smith.get("/app/patients?by=\(by)&q=\(term.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
                #expect(found.text.contains("Doe, John") && !found.text.contains("Smith, Jane"), "search by \(by)")
            }
            #expect(try await smith.get("/app/patients?by=name&q=jane").text.contains("Smith, Jane"))

            // Admin: discharge with a reason, the patient's access log, the audit log with a filter, verification.
            let admin = TestBrowser(world)
            try await admin.session(.admin)
            let adminToken = try #require(TestBrowser.csrf(in: try await admin.get("/app/patients").text))
            #expect(try await admin.post("/app/patients/\(d.jane.wire)/discharge", [("_csrf", adminToken), ("reason", "Moved away")]).status == .seeOther)
            #expect(try await world.services.store.find(id: d.jane, tenantID: d.tenantID)?.status == .discharged)
            let log = try await admin.get("/app/patients/\(d.jane.wire)/access-log")
            #expect(log.status == .ok && log.text.contains("patient.discharge"))
            let audit = try await admin.get("/app/audit?action=appointment.cancel")
            #expect(audit.status == .ok && audit.text.contains("appointment.cancel") && !audit.text.contains("patient.discharge"))
            #expect(try await admin.get("/app/audit?verify=1").text.contains("intact"))
            // A therapist has no audit page.
            #expect(try await smith.get("/app/audit").status == .notFound)
        }
    }
}
