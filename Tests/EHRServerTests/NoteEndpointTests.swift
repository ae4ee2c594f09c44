import Foundation
import HTTPTypes
import Testing

/// HTTP tests of `/api/v1/notes`: who may write, read, edit, sign, void and amend which note
/// (allowed and denied for every role), what admins and clients see, filters and pagination.
/// Every test runs on SQLite and PostgreSQL.
@Suite(.serialized) struct NoteEndpointTests {
    typealias Reply = TestWorld.Reply
    let demo = TestWorld.demo
    let other = TestWorld.other
    let path = "/api/v1/notes"
    let soap: [String: String] = [
        "subjective": "Reports better sleep.", "objective": "Calm, oriented.",
        "assessment": "Anxiety improving.", "plan": "Continue weekly CBT.",
    ]

    // MARK: Creating

    @Test(arguments: TestBackend.all)
    func createAllowedAndDeniedPerRole(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let created = try await create(world, as: .smith, patient: demo.john, sections: soap)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json["status"] as? String == "draft")
            #expect(created.json["authorId"] as? String == demo.smith.idText)
            #expect(created.json["patientId"] as? String == demo.john.idText)
            #expect(created.json["tenantId"] as? String == demo.tenantID.idText)
            #expect(created.json["type"] as? String == "soap")
            #expect(created.json["sections"] as? [String: String] == soap)
            #expect((created.json["addenda"] as? [Any])?.isEmpty == true)
            #expect(created.json["signedAt"] == nil || created.json["signedAt"] is NSNull)
            #expect(created.json["contentHash"] == nil || created.json["contentHash"] is NSNull)
            let id = try #require(created.json["id"] as? String)
            let fetched = try await world.call(.get, "\(path)/\(id)", as: .smith)
            #expect(fetched.status == .ok)
            #expect(fetched.json["sections"] as? [String: String] == soap)

            // A note linked to one of John's appointments, and a note about Jane (also Dr. Smith's patient).
            let withAppointment = try await create(
                world, as: .smith, patient: demo.john, type: "progress", sections: ["narrative": "Session"],
                appointmentID: demo.johnAppointment)
            #expect(withAppointment.status == .created)
            #expect(withAppointment.json["appointmentId"] as? String == demo.johnAppointment.idText)
            #expect(try await create(world, as: .smith, patient: demo.jane, type: "dap", sections: ["data": "d"]).status == .created)

            // Everyone else gets 404, whatever their role.
            expectProblem(try await create(world, as: .johnson, patient: demo.john, sections: soap), 404, "Dr. Johnson for John")
            expectProblem(try await create(world, as: .smith, patient: demo.bob, sections: soap), 404, "Dr. Smith for Bob")
            expectProblem(try await create(world, as: .admin, patient: demo.john, sections: soap), 404, "admin for John")
            expectProblem(try await create(world, as: .john, patient: demo.john, sections: soap), 404, "client John for himself")
            expectProblem(try await create(world, as: .jane, patient: demo.john, sections: soap), 404, "client Jane for John")
            expectProblem(try await create(world, as: .bob, patient: demo.bob, type: "progress", sections: ["narrative": "x"]), 404, "client Bob for himself")
            expectProblem(
                try await create(world, as: .johnson, in: other, patient: demo.bob, type: "progress", sections: ["narrative": "x"]), 404,
                "other practice's Dr. Johnson for demo's Bob")
            expectProblem(try await create(world, as: .smith, in: other, patient: demo.john, sections: soap), 404, "other practice's Dr. Smith")
            expectProblem(try await create(world, as: .smith, patient: UUID(), sections: soap), 404, "unknown patient")

            // None of the refused requests created a note.
            let all = try await world.call(.get, path, as: .admin)
            #expect(all.items.count == 2 + 3, "2 seeded + 3 created, got \(all.items.count)")
        }
    }

    @Test(arguments: TestBackend.all)
    func createValidation(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // Unknown section key for the type.
            expectProblem(
                try await create(world, as: .smith, patient: demo.john, sections: ["subjective": "ok", "behavior": "x"]), 422,
                field: "sections.behavior", "unknown key")
            // Every bad section is named.
            let several = try await create(
                world, as: .smith, patient: demo.john, type: "dap",
                sections: ["data": "ok", "subjective": "x", "plan": String(repeating: "p", count: 50_001)])
            expectProblem(several, 422, field: "sections.subjective", "several bad sections")
            #expect(several.problemFields.contains("sections.plan"))
            // Over-long section.
            expectProblem(
                try await create(world, as: .smith, patient: demo.john, sections: ["plan": String(repeating: "p", count: 50_001)]), 422,
                field: "sections.plan", "over-long section")
            #expect(
                try await create(world, as: .smith, patient: demo.john, sections: ["plan": String(repeating: "p", count: 50_000)]).status == .created,
                "exactly 50,000 characters is allowed")
            // An appointment of another patient.
            expectProblem(
                try await create(world, as: .smith, patient: demo.john, sections: soap, appointmentID: demo.bobAppointment), 422,
                field: "appointmentId", "another patient's appointment")
            // Wrong JSON type for a section value: malformed, 400.
            let numeric = try await world.call(
                .post, path, as: .smith,
                json: ["patientId": demo.john.idText, "type": "soap", "sections": ["subjective": 5]])
            expectProblem(numeric, 400, "numeric section value")
            #expect(numeric.problemFields.contains { $0.hasPrefix("sections") }, "names the section: \(numeric.problemFields)")
            // Unknown note type: 400 naming type.
            expectProblem(
                try await create(world, as: .smith, patient: demo.john, type: "freeform", sections: ["narrative": "x"]), 400,
                field: "type", "unknown type")
            // Only the valid one was stored.
            let list = try await world.call(.get, "\(path)?patientId=\(demo.john.idText)", as: .smith)
            #expect(list.items.count == 2, "seeded note + the 50,000-character note")
        }
    }

    // MARK: Editing drafts

    @Test(arguments: TestBackend.all)
    func editingDraftsAllowedAndDeniedPerRole(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = try await createOK(world, patient: demo.john, sections: soap)
            let note = "\(path)/\(id)"

            let edited = try await world.call(.patch, note, as: .smith, json: ["sections": ["subjective": "Revised."]])
            #expect(edited.status == .ok)
            #expect(edited.json["sections"] as? [String: String] == ["subjective": "Revised."], "sections are replaced as a whole")
            #expect(edited.json["status"] as? String == "draft")

            let retyped = try await world.call(.patch, note, as: .smith, json: ["type": "progress", "sections": ["narrative": "Now a progress note."]])
            #expect(retyped.status == .ok)
            #expect(retyped.json["type"] as? String == "progress")
            // A new type that the existing sections do not fit.
            expectProblem(try await world.call(.patch, note, as: .smith, json: ["type": "soap"]), 422, field: "sections.narrative", "type change")
            expectProblem(
                try await world.call(.patch, note, as: .smith, json: ["sections": ["subjective": "x"]]), 422,
                field: "sections.subjective", "sections not fitting the type")
            let linked = try await world.call(.patch, note, as: .smith, json: ["appointmentId": demo.johnAppointment.idText])
            #expect(linked.status == .ok)
            #expect(linked.json["appointmentId"] as? String == demo.johnAppointment.idText)
            expectProblem(
                try await world.call(.patch, note, as: .smith, json: ["appointmentId": demo.bobAppointment.idText]), 422,
                field: "appointmentId", "another patient's appointment")

            for account in [TestWorld.Account.johnson, .admin, .john, .jane, .bob] {
                expectProblem(
                    try await world.call(.patch, note, as: account, json: ["sections": ["narrative": "tampered"]]), 404,
                    "\(account) PATCH Smith's draft")
            }
            expectProblem(
                try await world.call(.patch, note, as: .smith, in: other, json: ["sections": ["narrative": "tampered"]]), 404,
                "other practice's Dr. Smith")
            let after = try await world.call(.get, note, as: .smith)
            #expect(after.json["sections"] as? [String: String] == ["narrative": "Now a progress note."], "denied edits changed nothing")
            // Dr. Johnson edits his own draft about Bob; Dr. Smith cannot.
            let bobNote = "\(path)/\(demo.bobDraftNote.idText)"
            #expect(try await world.call(.patch, bobNote, as: .johnson, json: ["sections": ["narrative": "Updated."]]).status == .ok)
            expectProblem(try await world.call(.patch, bobNote, as: .smith, json: ["sections": ["narrative": "x"]]), 404, "Smith PATCH Bob's draft")
        }
    }

    // MARK: Signing

    @Test(arguments: TestBackend.all)
    func signingLocksTheNote(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = try await createOK(world, patient: demo.john, sections: soap)
            let note = "\(path)/\(id)"

            for account in [TestWorld.Account.johnson, .admin, .john, .jane, .bob] {
                expectProblem(try await world.call(.post, "\(note)/sign", as: account), 404, "\(account) signing Smith's draft")
            }
            expectProblem(try await world.call(.post, "\(note)/sign", as: .smith, in: other), 404, "other practice's Dr. Smith signing")
            #expect(try await world.call(.get, note, as: .smith).json["status"] as? String == "draft", "denied signs changed nothing")

            let before = Date().addingTimeInterval(-5)
            let signed = try await world.call(.post, "\(note)/sign", as: .smith)
            #expect(signed.status == .ok)
            #expect(signed.json["status"] as? String == "signed")
            #expect(signed.json["signedBy"] as? String == demo.smith.idText)
            let signedAt = try #require(date(signed.json["signedAt"]))
            #expect(signedAt >= before && signedAt <= Date().addingTimeInterval(5))
            let hash = try #require(signed.json["contentHash"] as? String)
            #expect(isSHA256Hex(hash), "contentHash \(hash)")
            #expect(signed.json["sections"] as? [String: String] == soap)

            // Locked.
            expectProblem(try await world.call(.patch, note, as: .smith, json: ["sections": ["plan": "changed"]]), 409, "PATCH signed")
            expectProblem(try await world.call(.delete, note, as: .smith, json: ["reason": "oops"]), 409, "void signed")
            expectProblem(try await world.call(.post, "\(note)/sign", as: .smith), 409, "sign again")
            let fetched = try await world.call(.get, note, as: .smith)
            #expect(fetched.json["status"] as? String == "signed")
            #expect(fetched.json["contentHash"] as? String == hash)
            #expect(fetched.json["sections"] as? [String: String] == soap)
            #expect(fetched.json["signedAt"] as? String == signed.json["signedAt"] as? String, "signedAt reads back as it was signed")
            // Others still get 404 (not 409) on the signed note they may not see.
            expectProblem(try await world.call(.patch, note, as: .johnson, json: ["sections": ["plan": "x"]]), 404, "Johnson PATCH signed")
            // The seeded signed note is locked too.
            expectProblem(try await world.call(.post, "\(path)/\(demo.johnSignedNote.idText)/sign", as: .smith), 409, "sign seeded signed note")
        }
    }

    @Test(arguments: TestBackend.all)
    func simultaneousSignsLetExactlyOneWin(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = try await createOK(world, patient: demo.john, sections: soap)
            let token = try await world.token(.smith)
            let url = "\(path)/\(id)/sign"
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await world.call(.post, url, token: token).status.code } }
                var all: [Int] = []
                for try await code in group { all.append(code) }
                return all.sorted()
            }
            #expect(codes == [200] + Array(repeating: 409, count: 5), "statuses: \(codes)")
        }
    }

    // MARK: Addenda

    @Test(arguments: TestBackend.all)
    func addendaOnSignedNotesOnly(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = try await createOK(world, patient: demo.john, sections: soap)
            let note = "\(path)/\(id)"
            expectProblem(try await world.call(.post, "\(note)/addenda", as: .smith, json: ["text": "too early"]), 409, "addendum on a draft")

            let signed = try await world.call(.post, "\(note)/sign", as: .smith)
            let noteHash = try #require(signed.json["contentHash"] as? String)

            for account in [TestWorld.Account.johnson, .admin, .john, .jane, .bob] {
                expectProblem(
                    try await world.call(.post, "\(note)/addenda", as: account, json: ["text": "not mine"]), 404,
                    "\(account) adding an addendum")
            }
            expectProblem(try await world.call(.post, "\(note)/addenda", as: .smith, in: other, json: ["text": "x"]), 404, "other practice")
            expectProblem(try await world.call(.post, "\(note)/addenda", as: .smith, json: ["text": "   "]), 422, field: "text", "blank addendum")
            expectProblem(
                try await world.call(.post, "\(note)/addenda", as: .smith, json: ["text": String(repeating: "a", count: 50_001)]), 422,
                field: "text", "over-long addendum")

            let added = try await world.call(.post, "\(note)/addenda", as: .smith, json: ["text": "Correction: GAD-7 was 10."])
            #expect(added.status == .created, "\(added.text)")
            let addenda = try #require(added.json["addenda"] as? [[String: Any]])
            #expect(addenda.count == 1)
            let first = try #require(addenda.first)
            #expect(first["text"] as? String == "Correction: GAD-7 was 10.")
            #expect(first["noteId"] as? String == id)
            #expect(first["authorId"] as? String == demo.smith.idText)
            #expect(date(first["signedAt"]) != nil)
            let firstHash = try #require(first["contentHash"] as? String)
            #expect(isSHA256Hex(firstHash))
            #expect(firstHash != noteHash)
            #expect(added.json["contentHash"] as? String == noteHash, "the note's own hash does not change")
            #expect(added.json["status"] as? String == "signed")

            let second = try await world.call(.post, "\(note)/addenda", as: .smith, json: ["text": "Second addendum."])
            #expect(second.status == .created)
            let fetched = try await world.call(.get, note, as: .smith)
            let texts = (fetched.json["addenda"] as? [[String: Any]])?.compactMap { $0["text"] as? String }
            #expect(texts == ["Correction: GAD-7 was 10.", "Second addendum."], "oldest first")
            #expect(fetched.json["sections"] as? [String: String] == soap)

            // The client sees the addenda of his signed note.
            let asJohn = try await world.call(.get, note, as: .john)
            #expect(asJohn.status == .ok)
            #expect((asJohn.json["addenda"] as? [[String: Any]])?.count == 2)

            // Addendum on the seeded signed note by its patient's therapist.
            let seeded = try await world.call(.post, "\(path)/\(demo.johnSignedNote.idText)/addenda", as: .smith, json: ["text": "Late entry."])
            #expect(seeded.status == .created)
            // Addendum on the seeded draft: 409 for its author.
            expectProblem(
                try await world.call(.post, "\(path)/\(demo.bobDraftNote.idText)/addenda", as: .johnson, json: ["text": "x"]), 409,
                "addendum on seeded draft")
        }
    }

    // MARK: Voiding

    @Test(arguments: TestBackend.all)
    func voidingKeepsTheNote(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let id = try await createOK(world, patient: demo.john, sections: soap)
            let note = "\(path)/\(id)"

            // A reason is required.
            let noBody = try await world.call(.delete, note, as: .smith)
            #expect([400, 422].contains(noBody.status.code), "void without a body: \(noBody.status.code) \(noBody.text)")
            expectProblem(noBody, noBody.status.code, "void without body")
            let empty = try await world.call(.delete, note, as: .smith, json: [String: String]())
            #expect([400, 422].contains(empty.status.code), "void with {}: \(empty.status.code)")
            expectProblem(empty, empty.status.code, field: "reason", "void with {}")
            expectProblem(try await world.call(.delete, note, as: .smith, json: ["reason": "  "]), 422, field: "reason", "blank reason")
            #expect(try await world.call(.get, note, as: .smith).json["status"] as? String == "draft")

            for account in [TestWorld.Account.johnson, .admin, .john, .jane, .bob] {
                expectProblem(try await world.call(.delete, note, as: account, json: ["reason": "not mine"]), 404, "\(account) voiding")
            }
            #expect(try await world.call(.get, note, as: .smith).json["status"] as? String == "draft", "denied voids changed nothing")

            let voided = try await world.call(.delete, note, as: .smith, json: ["reason": "Wrong chart."])
            #expect(voided.status == .ok)
            #expect(voided.json["status"] as? String == "voided")
            #expect(voided.json["voidReason"] as? String == "Wrong chart.")
            #expect(date(voided.json["voidedAt"]) != nil)

            // Never hard-deleted.
            let fetched = try await world.call(.get, note, as: .smith)
            #expect(fetched.status == .ok)
            #expect(fetched.json["status"] as? String == "voided")
            #expect(fetched.json["sections"] as? [String: String] == soap)
            #expect(try await world.call(.get, note, as: .admin).status == .ok)
            #expect(ids(try await world.call(.get, "\(path)?status=voided", as: .smith)) == [id])

            // A voided note takes no further changes.
            expectProblem(try await world.call(.delete, note, as: .smith, json: ["reason": "again"]), 409, "void again")
            expectProblem(try await world.call(.post, "\(note)/sign", as: .smith), 409, "sign voided")
            expectProblem(try await world.call(.patch, note, as: .smith, json: ["sections": ["plan": "x"]]), 409, "edit voided")
            expectProblem(try await world.call(.post, "\(note)/addenda", as: .smith, json: ["text": "x"]), 409, "addendum on voided")
            // The client never sees a voided note.
            expectProblem(try await world.call(.get, note, as: .john), 404, "client GET voided")
        }
    }

    // MARK: What clients see

    @Test(arguments: TestBackend.all)
    func clientsSeeOnlyTheirOwnSignedNotes(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await createOK(world, patient: demo.john, sections: soap)
            let signedID = try await createOK(world, patient: demo.john, type: "progress", sections: ["narrative": "Signed session."])
            #expect(try await world.call(.post, "\(path)/\(signedID)/sign", as: .smith).status == .ok)
            let janeSigned = try await createOK(world, patient: demo.jane, type: "dap", sections: ["data": "Jane's data"])
            #expect(try await world.call(.post, "\(path)/\(janeSigned)/sign", as: .smith).status == .ok)

            // His signed notes, with content.
            let seeded = try await world.call(.get, "\(path)/\(demo.johnSignedNote.idText)", as: .john)
            #expect(seeded.status == .ok)
            #expect(seeded.json["status"] as? String == "signed")
            #expect((seeded.json["sections"] as? [String: String])?["plan"] == "Continue weekly CBT; practise breathing exercises daily.")
            #expect(try await world.call(.get, "\(path)/\(signedID)", as: .john).json["sections"] as? [String: String] == ["narrative": "Signed session."])
            // His own draft: 404, and never listed (not even when asking for drafts).
            expectProblem(try await world.call(.get, "\(path)/\(draft)", as: .john), 404, "client GET own draft")
            let list = try await world.call(.get, path, as: .john)
            #expect(list.status == .ok)
            #expect(ids(list) == [demo.johnSignedNote.idText, signedID])
            #expect(list.items.allSatisfy { $0["status"] as? String == "signed" && $0["sections"] is [String: Any] })
            let drafts = try await world.call(.get, "\(path)?status=draft", as: .john)
            #expect(drafts.status == .ok)
            #expect(drafts.items.isEmpty)
            let byPatient = try await world.call(.get, "\(path)?patientId=\(demo.john.idText)&status=draft", as: .john)
            #expect(byPatient.items.isEmpty)

            // Other clients: nothing of John's.
            for account in [TestWorld.Account.jane, .bob] {
                expectProblem(try await world.call(.get, "\(path)/\(demo.johnSignedNote.idText)", as: account), 404, "\(account) GET John's note")
                expectProblem(try await world.call(.get, "\(path)/\(signedID)", as: account), 404, "\(account) GET John's signed note")
                let theirs = try await world.call(.get, path, as: account)
                #expect(ids(theirs).isDisjoint(with: [demo.johnSignedNote.idText, signedID, draft]))
            }
            #expect(ids(try await world.call(.get, path, as: .jane)) == [janeSigned])
            // Bob's only note is a draft: his list is empty and the draft is 404.
            #expect(try await world.call(.get, path, as: .bob).items.isEmpty)
            expectProblem(try await world.call(.get, "\(path)/\(demo.bobDraftNote.idText)", as: .bob), 404, "Bob GET own draft")
            // John of the other practice sees nothing here.
            expectProblem(try await world.call(.get, "\(path)/\(demo.johnSignedNote.idText)", as: .john, in: other), 404, "other practice's John")
        }
    }

    // MARK: What admins see

    @Test(arguments: TestBackend.all)
    func adminsSeeMetadataOnly(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let seeded = "\(path)/\(demo.johnSignedNote.idText)"
            #expect(try await world.call(.post, "\(seeded)/addenda", as: .smith, json: ["text": "Confidential addendum."]).status == .created)
            let draft = try await createOK(world, patient: demo.jane, sections: soap)

            let one = try await world.call(.get, seeded, as: .admin)
            #expect(one.status == .ok)
            #expect(!one.json.keys.contains("sections"), "admin GET must not carry a sections key")
            #expect(one.json["status"] as? String == "signed")
            #expect(one.json["authorId"] as? String == demo.smith.idText)
            #expect(isSHA256Hex(one.json["contentHash"] as? String ?? ""))
            let addenda = try #require(one.json["addenda"] as? [[String: Any]])
            #expect(addenda.count == 1)
            #expect(addenda.allSatisfy { !$0.keys.contains("text") }, "admin sees addenda without text")
            #expect(addenda.allSatisfy { isSHA256Hex($0["contentHash"] as? String ?? "") })
            #expect(!one.text.contains("Confidential addendum."))
            #expect(!one.text.contains("panic episodes"))

            let draftOne = try await world.call(.get, "\(path)/\(draft)", as: .admin)
            #expect(draftOne.status == .ok)
            #expect(!draftOne.json.keys.contains("sections"))

            let list = try await world.call(.get, path, as: .admin)
            #expect(list.status == .ok)
            #expect(ids(list) == [demo.johnSignedNote.idText, demo.bobDraftNote.idText, draft])
            #expect(list.items.allSatisfy { !$0.keys.contains("sections") }, "admin list must not carry sections")
            #expect(list.items.allSatisfy { (($0["addenda"] as? [[String: Any]]) ?? []).allSatisfy { !$0.keys.contains("text") } })
            #expect(!list.text.contains("Confidential addendum."))
            #expect(!list.text.contains("Reports better sleep."))
            // Filters work for admins too, still without content.
            let filtered = try await world.call(.get, "\(path)?patientId=\(demo.bob.idText)", as: .admin)
            #expect(ids(filtered) == [demo.bobDraftNote.idText])
            #expect(filtered.items.allSatisfy { !$0.keys.contains("sections") })
            // Another practice's admin: nothing.
            expectProblem(try await world.call(.get, seeded, as: .admin, in: other), 404, "other practice's admin")
            #expect(ids(try await world.call(.get, path, as: .admin, in: other)).isDisjoint(with: [demo.johnSignedNote.idText, draft]))
        }
    }

    /// Access follows the patient's assignment: the new therapist reads and amends, the old one loses access.
    @Test(arguments: TestBackend.all)
    func reassigningThePatientMovesNoteAccess(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await createOK(world, patient: demo.john, sections: soap)
            let seeded = "\(path)/\(demo.johnSignedNote.idText)"
            let moved = try await world.call(
                .patch, "/api/v1/patients/\(demo.john.idText)", as: .admin,
                json: ["assignedTherapistId": demo.johnson.idText])
            #expect(moved.status == .ok, "\(moved.text)")

            // Dr. Johnson now sees John's signed notes and may amend them; Dr. Smith's draft stays Dr. Smith's alone.
            #expect(try await world.call(.get, seeded, as: .johnson).status == .ok)
            let visible = ids(try await world.call(.get, path, as: .johnson))
            #expect(visible.contains(demo.johnSignedNote.idText) && !visible.contains(draft))
            expectProblem(try await world.call(.get, "\(path)/\(draft)", as: .johnson), 404, "another author's draft")
            let amended = try await world.call(.post, "\(seeded)/addenda", as: .johnson, json: ["text": "Taking over care."])
            #expect(amended.status == .created)
            #expect((amended.json["addenda"] as? [[String: Any]])?.first?["authorId"] as? String == demo.johnson.idText)
            // ...but Dr. Smith's draft stays Dr. Smith's: Dr. Johnson cannot edit, sign or void it.
            expectProblem(try await world.call(.patch, "\(path)/\(draft)", as: .johnson, json: ["sections": ["plan": "x"]]), 404, "Johnson edits Smith's draft")
            expectProblem(try await world.call(.post, "\(path)/\(draft)/sign", as: .johnson), 404, "Johnson signs Smith's draft")
            expectProblem(try await world.call(.delete, "\(path)/\(draft)", as: .johnson, json: ["reason": "x"]), 404, "Johnson voids Smith's draft")
            // Dr. Smith lost access to John's notes, and may no longer edit his own draft or write new notes.
            expectProblem(try await world.call(.get, seeded, as: .smith), 404, "Smith GET after reassignment")
            #expect(ids(try await world.call(.get, path, as: .smith)).isDisjoint(with: [demo.johnSignedNote.idText, draft]))
            expectProblem(
                try await world.call(.patch, "\(path)/\(draft)", as: .smith, json: ["sections": ["plan": "x"]]), 404, "Smith edits after reassignment")
            expectProblem(try await create(world, as: .smith, patient: demo.john, sections: soap), 404, "Smith writes after reassignment")
            #expect(try await create(world, as: .johnson, patient: demo.john, sections: soap).status == .created)
            // John still sees his signed note.
            #expect(try await world.call(.get, seeded, as: .john).status == .ok)
        }
    }

    @Test(arguments: TestBackend.all)
    func dischargedPatientsTakeNoNewNotes(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await createOK(world, patient: demo.jane, type: "dap", sections: ["data": "d"])
            #expect(try await world.call(.delete, "/api/v1/patients/\(demo.jane.idText)", as: .admin, json: ["reason": "Moved away"]).status == .ok)
            let r = try await create(world, as: .smith, patient: demo.jane, type: "dap", sections: ["data": "new"])
            #expect([404, 422].contains(r.status.code), "note for a discharged patient: \(r.status.code) \(r.text)")
            expectProblem(r, r.status.code, "note for a discharged patient")
            // Existing notes stay readable.
            #expect(try await world.call(.get, "\(path)/\(draft)", as: .smith).status == .ok)
            #expect(ids(try await world.call(.get, "\(path)?patientId=\(demo.jane.idText)", as: .smith)) == [draft])
        }
    }

    // MARK: Lists

    @Test(arguments: TestBackend.all)
    func listFiltersAndTherapistScope(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let johnDraft = try await createOK(world, patient: demo.john, sections: soap)
            let johnProgress = try await createOK(world, patient: demo.john, type: "progress", sections: ["narrative": "n"])
            #expect(try await world.call(.post, "\(path)/\(johnProgress)/sign", as: .smith).status == .ok)
            let janeDap = try await createOK(world, patient: demo.jane, type: "dap", sections: ["data": "d"])
            let janeVoided = try await createOK(world, patient: demo.jane, type: "birp", sections: ["behavior": "b"])
            #expect(try await world.call(.delete, "\(path)/\(janeVoided)", as: .smith, json: ["reason": "dup"]).status == .ok)
            let seededJohn = demo.johnSignedNote.idText
            let seededBob = demo.bobDraftNote.idText

            let smithAll = try await world.call(.get, path, as: .smith)
            #expect(ids(smithAll) == [seededJohn, johnDraft, johnProgress, janeDap, janeVoided])
            #expect(isNewestFirst(smithAll.items))

            #expect(ids(try await world.call(.get, "\(path)?patientId=\(demo.jane.idText)", as: .smith)) == [janeDap, janeVoided])
            #expect(ids(try await world.call(.get, "\(path)?patientId=\(demo.john.idText)", as: .smith)) == [seededJohn, johnDraft, johnProgress])
            #expect(ids(try await world.call(.get, "\(path)?status=signed", as: .smith)) == [seededJohn, johnProgress])
            #expect(ids(try await world.call(.get, "\(path)?status=draft", as: .smith)) == [johnDraft, janeDap])
            #expect(ids(try await world.call(.get, "\(path)?status=voided", as: .smith)) == [janeVoided])
            #expect(ids(try await world.call(.get, "\(path)?type=soap", as: .smith)) == [seededJohn, johnDraft])
            #expect(ids(try await world.call(.get, "\(path)?type=dap", as: .smith)) == [janeDap])
            #expect(ids(try await world.call(.get, "\(path)?type=intake", as: .smith)).isEmpty)
            #expect(ids(try await world.call(.get, "\(path)?patientId=\(demo.john.idText)&status=draft&type=soap", as: .smith)) == [johnDraft])
            // Filters never widen scope: Dr. Smith asking for Bob gets an empty list.
            let smithBob = try await world.call(.get, "\(path)?patientId=\(demo.bob.idText)", as: .smith)
            #expect(smithBob.status == .ok)
            #expect(smithBob.items.isEmpty)

            // Dr. Johnson never sees John's (or Jane's) notes, in lists or one by one.
            let johnson = try await world.call(.get, path, as: .johnson)
            #expect(johnson.status == .ok)
            #expect(ids(johnson) == [seededBob])
            #expect(johnson.items.allSatisfy { $0["patientId"] as? String == demo.bob.idText })
            #expect(try await world.call(.get, "\(path)?patientId=\(demo.john.idText)", as: .johnson).items.isEmpty)
            #expect(try await world.call(.get, "\(path)?status=signed", as: .johnson).items.isEmpty)
            for id in [seededJohn, johnDraft, johnProgress, janeDap] {
                expectProblem(try await world.call(.get, "\(path)/\(id)", as: .johnson), 404, "Johnson GET \(id)")
            }
            // Dr. Smith never sees Bob's draft.
            expectProblem(try await world.call(.get, "\(path)/\(seededBob)", as: .smith), 404, "Smith GET Bob's draft")
            // The other practice's therapist sees none of these.
            let foreign = try await world.call(.get, path, as: .smith, in: other)
            #expect(ids(foreign).isDisjoint(with: [seededJohn, johnDraft, johnProgress, janeDap, janeVoided, seededBob]))
        }
    }

    @Test(arguments: TestBackend.all)
    func paginationFollowsCursor(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            var created: Set<String> = [demo.johnSignedNote.idText]
            for i in 0..<8 {
                created.insert(try await createOK(world, patient: i % 2 == 0 ? demo.john : demo.jane, type: "progress", sections: ["narrative": "n\(i)"]))
            }
            // Two notes created at once (same createdAt millisecond is likely): ties are broken consistently.
            let token = try await world.token(.smith)
            let path = self.path
            let johnID = demo.john.idText
            let concurrent = try await withThrowingTaskGroup(of: String?.self) { group in
                for i in 0..<4 {
                    group.addTask {
                        let body: [String: Any] = ["patientId": johnID, "type": "progress", "sections": ["narrative": "c\(i)"]]
                        return try await world.call(.post, path, token: token, json: body).json["id"] as? String
                    }
                }
                var all: [String] = []
                for try await id in group { if let id { all.append(id) } }
                return all
            }
            #expect(concurrent.count == 4)
            created.formUnion(concurrent)

            for limit in [1, 2, 5, 13, 50] {
                var seen: [String] = []
                var cursor: String?
                var pages = 0
                repeat {
                    var url = "\(path)?limit=\(limit)"
                    if let cursor { url += "&cursor=\(cursor)" }
                    let page = try await world.call(.get, url, as: .smith)
                    try #require(page.status == .ok, "\(page.text)")
                    pages += 1
                    #expect(page.items.count <= limit)
                    seen += page.items.compactMap { $0["id"] as? String }
                    #expect(page.json.keys.contains("nextCursor"))
                    if let next = page.json["nextCursor"] as? String {
                        #expect(page.items.count == limit)
                        cursor = next
                    } else {
                        #expect(page.json["nextCursor"] is NSNull, "nextCursor is JSON null on the last page")
                        cursor = nil
                    }
                } while cursor != nil && pages < 100
                #expect(seen.count == created.count, "limit \(limit): \(seen.count) of \(created.count)")
                #expect(Set(seen).count == seen.count, "limit \(limit): duplicates")
                #expect(Set(seen) == created, "limit \(limit): missing")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func unauthenticatedCallsGet401(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let note = "\(path)/\(demo.johnSignedNote.idText)"
            let create: [String: Any] = ["patientId": demo.john.idText, "type": "soap", "sections": soap]
            let calls: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, path, nil), (.post, path, create), (.get, note, nil), (.patch, note, ["sections": soap]),
                (.delete, note, ["reason": "x"]), (.post, "\(note)/sign", nil), (.post, "\(note)/addenda", ["text": "x"]),
            ]
            for (method, p, body) in calls {
                expectProblem(try await world.call(method, p, json: body), 401, "\(method) \(p) without a token")
                expectProblem(try await world.call(method, p, token: "eyJhbGciOiJub25lIn0.e30.", json: body), 401, "\(method) \(p) with alg none")
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

    private func create(
        _ world: TestWorld, as account: TestWorld.Account, in practice: TestWorld.Practice = TestWorld.demo, patient: UUID,
        type: String = "soap", sections: [String: String], appointmentID: UUID? = nil
    ) async throws -> Reply {
        var body: [String: Any] = ["patientId": patient.idText, "type": type, "sections": sections]
        if let appointmentID { body["appointmentId"] = appointmentID.idText }
        return try await world.call(.post, path, as: account, in: practice, json: body)
    }

    /// Dr. Smith writes a draft; returns its id (the test stops if that fails).
    private func createOK(
        _ world: TestWorld, patient: UUID, type: String = "soap", sections: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await create(world, as: .smith, patient: patient, type: type, sections: sections)
        #expect(reply.status == .created, "create failed: \(reply.status.code) \(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply.json["id"] as? String, sourceLocation: sourceLocation)
    }

    private func ids(_ reply: Reply) -> Set<String> { Set(reply.items.compactMap { $0["id"] as? String }) }

    private func isSHA256Hex(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    private func isNewestFirst(_ items: [[String: Any]]) -> Bool {
        let created = items.compactMap { date($0["createdAt"]) }
        return created.count == items.count && zip(created, created.dropFirst()).allSatisfy { $0 >= $1 }
    }

    private func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

}

private extension UUID {
    var idText: String { uuidString.lowercased() }
}
