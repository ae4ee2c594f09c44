import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EHRServer

/// What a stolen database file or backup reveals: no name, contact detail or clinical text.
@Suite("Encryption at rest", .serialized)
struct EncryptionAtRestTests {
    /// Distinctive values that must never appear in stored bytes.
    static let sentinels = [
        "Zyxquorbel", "Plimthwaite", "zyx.sentinel@quorbel.test", "+1 (555) 867-5309", "15558675309", "742 Sentinelstrasse",
        "Gorblaxian Sentinel", "+1-555-314-1592", "sentinel-note-Xylophonic", "sentinel-addendum-Quokkaish", "sentinel-reason-Narwhalish",
        "sentinel-void-Pangolinish", "sentinel-breakglass-Axolotlish", "sentinel-discharge-Okapish", "1987-11-23",
        "sentinel-message-Wombatish",
    ]

    /// Registers a patient (with portal access) and clinical text carrying every sentinel, through the API.
    static func seedSentinels(_ world: TestWorld) async throws {
        let demo = TestWorld.demo
        let created = try await world.call(
            .post, "/api/v1/patients", as: .admin,
            json: [
                "firstName": "Zyxquorbel", "lastName": "Plimthwaite", "dateOfBirth": "1987-11-23", "email": "zyx.sentinel@quorbel.test",
                "phone": "+1 (555) 867-5309", "portalAccess": true, "assignedTherapistId": demo.smith.wire,
                "address": ["line1": "742 Sentinelstrasse", "city": "Springfield", "state": "NY", "postalCode": "10001"],
                "emergencyContact": ["name": "Gorblaxian Sentinel", "phone": "+1-555-314-1592", "relationship": "Sibling"],
            ])
        try #require(created.status == .created, "\(created.text)")
        let patientID = try #require((created.json["patient"] as? [String: Any])?["id"] as? String)
        let appointment = try await world.call(
            .post, "/api/v1/appointments", as: .smith,
            json: [
                "patientId": patientID, "therapistId": demo.smith.wire, "startsAt": "2031-02-03T15:00:00Z", "endsAt": "2031-02-03T16:00:00Z",
                "timeZone": "America/New_York", "kind": "in_person", "reason": "sentinel-reason-Narwhalish",
            ])
        try #require(appointment.status == .created, "\(appointment.text)")
        let note = try await world.call(
            .post, "/api/v1/notes", as: .smith,
            json: [
                "patientId": patientID, "type": "progress", "sections": ["narrative": "sentinel-note-Xylophonic"],
            ])
        let noteID = try #require(note.json["id"] as? String)
        #expect(try await world.call(.post, "/api/v1/notes/\(noteID)/sign", as: .smith).status == .ok)
        #expect(try await world.call(.post, "/api/v1/notes/\(noteID)/addenda", as: .smith, json: ["text": "sentinel-addendum-Quokkaish"]).status == .created)
        #expect(
            try await world.call(.post, "/api/v1/notes/\(noteID)/break-glass", as: .johnson, json: ["reason": "sentinel-breakglass-Axolotlish"]).status
                == .created)
        let draft = try await world.call(
            .post, "/api/v1/notes", as: .smith, json: ["patientId": patientID, "type": "progress", "sections": ["narrative": "x"]])
        let draftID = try #require(draft.json["id"] as? String)
        #expect(try await world.call(.delete, "/api/v1/notes/\(draftID)", as: .smith, json: ["reason": "sentinel-void-Pangolinish"]).status == .ok)
        let thread = try await world.call(.post, "/api/v1/threads", as: .smith, json: ["patientId": patientID])
        let threadID = try #require(thread.json["id"] as? String, "\(thread.text)")
        #expect(
            try await world.call(.post, "/api/v1/threads/\(threadID)/messages", as: .smith, json: ["body": "sentinel-message-Wombatish"]).status == .created)
        #expect(try await world.call(.delete, "/api/v1/patients/\(patientID)", as: .admin, json: ["reason": "sentinel-discharge-Okapish"]).status == .ok)
        // And the record reads back in the clear through the API.
        let read = try await world.call(.get, "/api/v1/patients/\(patientID)", as: .admin)
        #expect(read.json["firstName"] as? String == "Zyxquorbel" && read.json["email"] as? String == "zyx.sentinel@quorbel.test")
    }

    /// Every sentinel found (case-insensitively) in `bytes`.
    static func found(in bytes: Data) -> [String] {
        let haystack = String(decoding: bytes, as: UTF8.self).lowercased()
        return sentinels.filter { haystack.contains($0.lowercased()) }
    }

    @Test(arguments: TestBackend.all)
    func storedBytesHoldNoSentinel(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            try await Self.seedSentinels(world)
            switch world.services.configuration.database {
            case .sqlite(let path):
                // The main file and its WAL, as they are on disk (a copied data folder).
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
                let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("test.sqlite") }
                var total = 0
                for file in files {
                    let bytes = try Data(contentsOf: folder.appendingPathComponent(file))
                    total += bytes.count
                    #expect(Self.found(in: bytes).isEmpty, "\(file) holds \(Self.found(in: bytes))")
                }
                #expect(total > 0)
                print("encryption at rest (SQLite): \(files.count) files, \(total) bytes, 0 of \(Self.sentinels.count) sentinels found")
            case .postgres(let url, _):
                let dump = try Self.pgDump(url)
                #expect(dump.count > 10_000, "pg_dump output is suspiciously small")
                #expect(dump.contains(Data("COPY public.patients".utf8)), "pg_dump did not dump the patients table")
                #expect(Self.found(in: dump).isEmpty, "pg_dump holds \(Self.found(in: dump))")
                print("encryption at rest (PostgreSQL): pg_dump \(dump.count) bytes, 0 of \(Self.sentinels.count) sentinels found")
            }
        }
    }

    static func pgDump(_ url: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var components = URLComponents(string: url)!
        components.query = nil
        process.arguments = ["pg_dump", "--no-owner", "--dbname=\(components.string!)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "pg_dump failed")
        return data
    }

    @Test(arguments: TestBackend.all)
    func exactSearchGoesThroughBlindIndexes(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            func ids(_ query: String, as account: TestWorld.Account = .admin, in practice: TestWorld.Practice = TestWorld.demo) async throws -> [String] {
                let reply = try await world.call(.get, "/api/v1/patients?\(query)", as: account, in: practice)
                #expect(reply.status == .ok, "\(query): \(reply.text)")
                return reply.items.compactMap { $0["id"] as? String }
            }
            let john = TestWorld.demo.john.wire
            #expect(try await ids("email=%20JOHN.Doe@demo.test%20") == [john])
            #expect(try await ids("phone=1-555-0101") == [john])
            #expect(try await ids("phone=555-0101").isEmpty)
            #expect(try await ids("phone=%2B1%20(555)%200101") == [john])
            #expect(try await ids("lastName=%20DOE&dateOfBirth=1985-04-12") == [john])
            #expect(try await ids("lastName=Doe&dateOfBirth=1985-04-13").isEmpty)
            #expect(try await ids("email=nobody@demo.test").isEmpty)
            // Search stays inside the caller's scope: Dr. Johnson is not John's therapist.
            #expect(try await ids("email=john.doe@demo.test", as: .johnson).isEmpty)
            // The other practice has its own John Doe, with the same name and birth date: found there, and only there.
            #expect(try await ids("lastName=Doe&dateOfBirth=1985-04-12", in: TestWorld.other) == [TestWorld.other.john.wire])
            #expect(try await ids("email=john.doe@demo.test", in: TestWorld.other).isEmpty)
            // One parameter without its partner is a 400 naming the missing one.
            let half = try await world.call(.get, "/api/v1/patients?lastName=Doe", as: .admin)
            #expect(half.status == .badRequest && half.problemFields == ["dateOfBirth"])

            // The same value gives different index values in different practices.
            struct Row: Decodable {
                var name_dob_bidx: String?
                var phone_bidx: String?
            }
            let rows = try await world.services.database.sql.raw(
                """
                SELECT name_dob_bidx, phone_bidx FROM patients WHERE id IN (\(bind: TestWorld.demo.john), \(bind: TestWorld.other.john))
                """
            ).all(decoding: Row.self)
            #expect(rows.count == 2 && rows[0].name_dob_bidx != nil && rows[0].name_dob_bidx != rows[1].name_dob_bidx)
            #expect(rows[0].phone_bidx != nil && rows[0].phone_bidx != rows[1].phone_bidx)
        }
    }

    @Test(arguments: TestBackend.all)
    func ciphertextMovedToAnotherRowOrPracticeDoesNotOpen(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let sql = world.services.database.sql
            let demo = TestWorld.demo
            let other = TestWorld.other
            // Jane's last name copied into John's row (same practice, other row).
            try await sql.raw("UPDATE patients SET last_name = (SELECT last_name FROM patients WHERE id = \(bind: demo.jane)) WHERE id = \(bind: demo.john)")
                .run()
            // Demo's Bob's first name copied into the other practice's Bob.
            try await sql.raw("UPDATE patients SET first_name = (SELECT first_name FROM patients WHERE id = \(bind: demo.bob)) WHERE id = \(bind: other.bob)")
                .run()
            for (path, account, practice) in [
                ("/api/v1/patients/\(demo.john.wire)", TestWorld.Account.admin, demo),
                ("/api/v1/patients", .admin, demo),
                ("/api/v1/patients/\(other.bob.wire)", .admin, other),
            ] {
                let reply = try await world.call(.get, path, as: account, in: practice)
                #expect(reply.status == .conflict, "\(path): \(reply.status)")
                #expect((reply.json["type"] as? String)?.hasSuffix("record-unreadable") == true)
                #expect(!reply.text.contains("Doe") && !reply.text.contains("Smith"))
            }
            // Untouched records still read.
            #expect(try await world.call(.get, "/api/v1/patients/\(demo.jane.wire)", as: .admin).status == .ok)
            // The failure is a clear storage error naming the column, not a crash.
            await #expect(throws: StorageError.self) { _ = try await world.services.store.find(id: demo.john, tenantID: demo.tenantID) as Patient? }
        }
    }

    @Test(arguments: TestBackend.all)
    func aSignedNoteSwappedForAnOlderCiphertextOfItselfIsRefused(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            let sql = world.services.database.sql
            let created = try await world.call(
                .post, "/api/v1/notes", as: .smith,
                json: [
                    "patientId": demo.john.wire, "type": "progress",
                    "sections": ["narrative": "First draft"],
                ])
            let id = try #require(created.json["id"] as? String)
            struct Row: Decodable { var sections: String }
            let oldCiphertext = try await sql.raw("SELECT sections FROM clinical_notes WHERE id = \(bind: UUID(uuidString: id)!)").first(decoding: Row.self)!
                .sections
            #expect(try await world.call(.patch, "/api/v1/notes/\(id)", as: .smith, json: ["sections": ["narrative": "Final text"]]).status == .ok)
            #expect(try await world.call(.post, "/api/v1/notes/\(id)/sign", as: .smith).status == .ok)
            // Someone with database access restores the draft-era ciphertext (valid for this very row and column),
            // passing the lock trigger by raising key_version as a re-encryption would.
            try await sql.raw(
                "UPDATE clinical_notes SET sections = \(bind: oldCiphertext), key_version = key_version + 1 WHERE id = \(bind: UUID(uuidString: id)!)"
            ).run()
            let reply = try await world.call(.get, "/api/v1/notes/\(id)", as: .smith)
            #expect(reply.status == .conflict && !reply.text.contains("First draft"), "\(reply.status) \(reply.text)")
        }
    }

    @Test(arguments: TestBackend.all)
    func shreddingMakesAPracticeUnreadableForGood(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let other = try await world.services.practice(slug: "other")
            #expect(try await world.call(.get, "/api/v1/patients", as: .admin, in: TestWorld.other).status == .ok)
            try await world.services.shredPractice(other)
            world.services.vault.forgetCachedKeys()
            for path in ["/api/v1/patients", "/api/v1/patients/\(TestWorld.other.john.wire)", "/api/v1/notes/\(TestWorld.other.johnSignedNote.wire)"] {
                let reply = try await world.call(.get, path, as: .admin, in: TestWorld.other)
                #expect(reply.status == .gone, "\(path): \(reply.status)")
            }
            let login = try await world.call(.post, "/api/v1/auth/login", json: ["tenant": "other", "email": "admin@demo.test", "password": DemoSeed.password])
            #expect(login.status == .gone)
            struct Count: Decodable { var n: Int }
            #expect(
                try await world.services.database.sql.raw("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = \(bind: other.id)").first(
                    decoding: Count.self)?.n == 0)
            // The demo practice is untouched; the shredded one's audit chain (no PHI) still verifies and records the shredding.
            #expect(try await world.call(.get, "/api/v1/patients/\(TestWorld.demo.john.wire)", as: .admin).status == .ok)
            let report = try await world.services.verifyAudit(of: other)
            #expect(report.isIntact)
            let events = try await world.services.auditLog.list(
                tenantID: other.id, filter: AuditEventFilter(action: "keys.shred"), page: PageRequest(),
                on: world.services.database.sql)
            #expect(events.items.count == 1)
            // Start-up never hands a shredded practice new keys (its ciphertext would otherwise be taken for plaintext).
            try await world.services.keyMaintenance.encryptLegacyTenants()
            #expect(
                try await world.services.database.sql.raw("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = \(bind: other.id)").first(
                    decoding: Count.self)?.n == 0)
        }
    }
}
