import Foundation
import HTTPTypes
import Testing

@testable import EHRServer

/// Every endpoint, called by every role of one practice with the other practice's ids.
/// A leak is any success on the other practice's record, or any answer that mentions one of its ids.
@Suite("Cross-tenant matrix")
struct CrossTenantMatrixTests {
    struct Attempt: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: any Sendable]?
    }

    /// Requests aimed at `target`'s records.
    static func attempts(against target: TestWorld.Practice) -> [Attempt] {
        let users = [target.admin, target.smith, target.johnson, target.johnUser, target.janeUser, target.bobUser]
        let patients = [target.john, target.jane, target.bob]
        let appointments = [target.johnAppointment, target.bobAppointment]
        let notes = [target.johnSignedNote, target.bobDraftNote]
        var list: [Attempt] = []
        for id in users.map(\.wire) {
            list.append(Attempt(method: .get, path: "/api/v1/users/\(id)", body: nil))
            list.append(Attempt(method: .patch, path: "/api/v1/users/\(id)", body: ["displayName": "Renamed"]))
        }
        for id in [target.smith, target.johnson].map(\.wire) {
            list.append(Attempt(method: .get, path: "/api/v1/providers/\(id)", body: nil))
            list.append(Attempt(method: .patch, path: "/api/v1/providers/\(id)", body: ["credentials": "Changed"]))
            list.append(Attempt(method: .delete, path: "/api/v1/providers/\(id)", body: nil))
            list.append(Attempt(method: .get, path: "/api/v1/appointments?therapistId=\(id)", body: nil))
            list.append(Attempt(method: .get, path: "/api/v1/patients?assignedTherapistId=\(id)", body: nil))
        }
        for id in patients.map(\.wire) {
            list.append(Attempt(method: .get, path: "/api/v1/patients/\(id)", body: nil))
            list.append(Attempt(method: .patch, path: "/api/v1/patients/\(id)", body: ["firstName": "Changed"]))
            list.append(Attempt(method: .delete, path: "/api/v1/patients/\(id)", body: ["reason": "cross-tenant attempt"]))
            list.append(Attempt(method: .get, path: "/api/v1/appointments?patientId=\(id)", body: nil))
            list.append(Attempt(method: .get, path: "/api/v1/notes?patientId=\(id)", body: nil))
            list.append(Attempt(method: .post, path: "/api/v1/notes", body: ["patientId": id, "type": "progress", "sections": ["narrative": "x"]]))
            for therapist in [target.smith, target.johnson].map(\.wire) {
                list.append(
                    Attempt(
                        method: .post, path: "/api/v1/appointments",
                        body: [
                            "patientId": id, "therapistId": therapist, "startsAt": "2031-01-06T15:00:00Z", "endsAt": "2031-01-06T16:00:00Z",
                            "timeZone": "America/New_York", "kind": "televisit",
                        ]))
            }
        }
        list.append(
            Attempt(
                method: .post, path: "/api/v1/patients",
                body: [
                    "firstName": "Cross", "lastName": "Tenant", "dateOfBirth": "1990-01-01", "assignedTherapistId": target.smith.wire,
                ]))
        for id in appointments.map(\.wire) {
            list.append(Attempt(method: .get, path: "/api/v1/appointments/\(id)", body: nil))
            list.append(Attempt(method: .patch, path: "/api/v1/appointments/\(id)", body: ["reason": "changed"]))
            list.append(Attempt(method: .delete, path: "/api/v1/appointments/\(id)", body: nil))
            list.append(Attempt(method: .post, path: "/api/v1/appointments/\(id)/startTelevisit", body: nil))
        }
        for id in notes.map(\.wire) {
            list.append(Attempt(method: .get, path: "/api/v1/notes/\(id)", body: nil))
            list.append(Attempt(method: .patch, path: "/api/v1/notes/\(id)", body: ["sections": ["narrative": "changed"]]))
            list.append(Attempt(method: .delete, path: "/api/v1/notes/\(id)", body: ["reason": "cross-tenant attempt"]))
            list.append(Attempt(method: .post, path: "/api/v1/notes/\(id)/sign", body: nil))
            list.append(Attempt(method: .post, path: "/api/v1/notes/\(id)/addenda", body: ["text": "cross-tenant addendum"]))
        }
        for id in patients.map(\.wire) {
            list.append(Attempt(method: .post, path: "/api/v1/threads", body: ["patientId": id]))
        }
        let thread = target.johnThread.wire
        list.append(Attempt(method: .get, path: "/api/v1/threads/\(thread)/messages", body: nil))
        list.append(Attempt(method: .post, path: "/api/v1/threads/\(thread)/messages", body: ["body": "cross-tenant message"]))
        list.append(Attempt(method: .post, path: "/api/v1/threads/\(thread)/read", body: nil))
        for path in [
            "/api/v1/threads", "/api/v1/users", "/api/v1/providers", "/api/v1/patients", "/api/v1/appointments", "/api/v1/notes",
            "/api/v1/appointments?upcoming=true",
        ] {
            list.append(Attempt(method: .get, path: path, body: nil))
        }
        return list
    }

    /// Every id of `practice`, as it would appear in a JSON answer.
    static func ids(of practice: TestWorld.Practice) -> [String] {
        [
            practice.tenantID, practice.admin, practice.smith, practice.johnson, practice.johnUser, practice.janeUser, practice.bobUser,
            practice.john, practice.jane, practice.bob, practice.johnAppointment, practice.bobAppointment, practice.johnSignedNote,
            practice.bobDraftNote, practice.johnThread,
        ].map(\.wire)
    }

    @Test(arguments: TestBackend.all)
    func noPracticeSeesOrChangesAnotherPracticesRecords(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            var attemptsMade = 0
            var leaks: [String] = []
            for (caller, target) in [(TestWorld.other, TestWorld.demo), (TestWorld.demo, TestWorld.other)] {
                let foreignIDs = Self.ids(of: target)
                let isList: (String) -> Bool = {
                    !$0.contains("/api/v1/users/") && !$0.contains("/providers/") && !$0.contains("/patients/")
                        && !$0.contains("/appointments/") && !$0.contains("/notes/") && !$0.contains("/threads/")
                }
                for account in TestWorld.Account.allCases {
                    let token = try await world.token(account, in: caller)
                    for attempt in Self.attempts(against: target) {
                        attemptsMade += 1
                        let reply = try await world.call(attempt.method, attempt.path, token: token, json: attempt.body)
                        // The problem's `instance` echoes the caller's own request path; that is not a leak.
                        let requestedPath = String(attempt.path.split(separator: "?").first ?? "").lowercased()
                        let text = reply.text.lowercased().replacingOccurrences(of: requestedPath, with: "")
                        let mentioned = foreignIDs.filter { text.contains($0) }
                        let succeededOnForeignRecord = (200..<300).contains(reply.status.code) && !(attempt.method == .get && isList(attempt.path))
                        if !mentioned.isEmpty || succeededOnForeignRecord || reply.status.code >= 500 {
                            leaks.append("\(caller.slug)/\(account.rawValue) \(attempt.method) \(attempt.path) -> \(reply.status.code)")
                        }
                    }
                }
            }
            print("cross-tenant matrix [\(backend.testDescription)]: \(attemptsMade) attempts, \(leaks.count) leaks")
            #expect(attemptsMade == 2 * TestWorld.Account.allCases.count * Self.attempts(against: TestWorld.demo).count)
            #expect(leaks.isEmpty, "leaks: \(leaks.prefix(20))")

            // Nothing of the demo practice changed.
            let note = try await world.call(.get, "/api/v1/notes/\(TestWorld.demo.bobDraftNote.wire)", as: .johnson)
            #expect(note.json["status"] as? String == "draft")
            let appointment = try await world.call(.get, "/api/v1/appointments/\(TestWorld.demo.johnAppointment.wire)", as: .admin)
            #expect(appointment.json["status"] as? String == "scheduled")
            #expect(appointment.json["reason"] as? String == "Weekly therapy session")
            let patient = try await world.call(.get, "/api/v1/patients/\(TestWorld.demo.john.wire)", as: .admin)
            #expect(patient.json["status"] as? String == "active")
            #expect(patient.json["firstName"] as? String == "John")
            let provider = try await world.call(.get, "/api/v1/providers/\(TestWorld.demo.smith.wire)", as: .admin)
            #expect(provider.json["active"] as? Bool == true)
        }
    }
}
