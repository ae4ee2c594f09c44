import EHRDomain
import Foundation
import Testing

@testable import EHRServer

/// A draft is its author's alone: when the patient moves to another therapist, the new therapist sees the
/// signed record but not the previous therapist's draft, by id or in lists.
@Suite("Draft privacy", .serialized) struct DraftPrivacyTests {
    @Test(arguments: TestBackend.all)
    func anotherAuthorsDraftIsHiddenFromTheAssignedTherapist(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            // Dr. Johnson signs a note about Bob, then Bob moves to Dr. Smith; Johnson's draft stays a draft.
            let signed = try await world.call(
                .post, "/api/v1/notes", as: .johnson, json: ["patientId": d.bob.wire, "type": "progress", "sections": ["narrative": "Stable."]])
            let signedID = try #require(signed.json["id"] as? String, "\(signed.text)")
            #expect(try await world.call(.post, "/api/v1/notes/\(signedID)/sign", as: .johnson).status == .ok)
            let moved = try await world.call(.patch, "/api/v1/patients/\(d.bob.wire)", as: .admin, json: ["assignedTherapistId": d.smith.wire])
            #expect(moved.status == .ok, "\(moved.text)")

            expectProblem(try await world.call(.get, "/api/v1/notes/\(d.bobDraftNote.wire)", as: .smith), 404, "another author's draft")
            #expect(try await world.call(.get, "/api/v1/notes/\(signedID)", as: .smith).status == .ok, "signed notes follow the patient")
            let listed = try await world.call(.get, "/api/v1/notes?patientId=\(d.bob.wire)", as: .smith)
            let ids = Set(listed.items.compactMap { $0["id"] as? String })
            #expect(ids == [signedID], "\(ids)")
            let drafts = try await world.call(.get, "/api/v1/notes?status=draft", as: .smith)
            #expect(!drafts.items.contains { $0["id"] as? String == d.bobDraftNote.wire })
            // Break-glass never opens a draft either.
            expectProblem(
                try await world.call(.post, "/api/v1/notes/\(d.bobDraftNote.wire)/break-glass", as: .smith, json: ["reason": "Covering the caseload today"]),
                404)
            // The author's own drafts stay visible to them while they care for the patient.
            let own = try await world.call(
                .post, "/api/v1/notes", as: .smith, json: ["patientId": d.bob.wire, "type": "progress", "sections": ["narrative": "First session."]])
            let ownID = try #require(own.json["id"] as? String)
            #expect(try await world.call(.get, "/api/v1/notes/\(ownID)", as: .smith).status == .ok)
        }
    }
}
