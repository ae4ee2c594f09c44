import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import SQLKit
import Testing

@testable import EHRServer

/// Rotating a practice's data key while requests run: no request fails, every row ends on the new version.
@Suite("Key rotation", .serialized)
struct KeyRotationTests {
    @Sendable static func shortKeyCache(_ configuration: inout AppConfiguration) {
        configuration.keyCacheLifetime = 1
    }

    static let tables = ["users", "patients", "appointments", "clinical_notes", "note_addenda", "break_glass_grants", "messages"]

    @Test(arguments: TestBackend.all)
    func rotationUnderLoadFailsNoRequestAndMovesEveryRow(_ backend: TestBackend) async throws {
        try await withWorld(backend, configure: Self.shortKeyCache) { world in
            let demo = TestWorld.demo
            // Some clinical text under version 1 first.
            for i in 0..<20 {
                let note = try await world.call(
                    .post, "/api/v1/notes", as: .smith,
                    json: [
                        "patientId": demo.john.wire, "type": "progress",
                        "sections": ["narrative": "before rotation \(i)"],
                    ])
                #expect(note.status == .created)
            }
            #expect(
                try await world.call(.post, "/api/v1/notes/\(demo.johnSignedNote.wire)/addenda", as: .smith, json: ["text": "addendum v1"]).status == .created)
            let tenant = try await world.services.practice(slug: "demo")
            let failures = NIOLockedValueBox<[String]>([])
            let done = NIOLockedValueBox(false)
            let count = NIOLockedValueBox(0)
            let rotation: (version: Int, rows: Int) = try await withThrowingTaskGroup(of: (Int, Int)?.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var i = 0
                        while !done.withLockedValue({ $0 }) {
                            i += 1
                            let reply: TestWorld.Reply
                            switch (worker + i) % 4 {
                            case 0: reply = try await world.call(.get, "/api/v1/notes?patientId=\(demo.john.wire)&limit=100", as: .smith)
                            case 1:
                                reply = try await world.call(
                                    .post, "/api/v1/notes", as: .smith,
                                    json: [
                                        "patientId": demo.john.wire, "type": "progress", "sections": ["narrative": "during rotation \(worker)-\(i)"],
                                    ])
                            case 2:
                                reply = try await world.call(
                                    .patch, "/api/v1/patients/\(demo.jane.wire)", as: .admin, json: ["phone": "+1-555-01\(10 + i % 80)"])
                            default: reply = try await world.call(.get, "/api/v1/notes/\(demo.johnSignedNote.wire)", as: .smith)
                            }
                            count.withLockedValue { $0 += 1 }
                            if reply.status.code >= 300 { failures.withLockedValue { $0.append("\(reply.status.code) \(reply.text.prefix(200))") } }
                        }
                        return nil
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    let result = try await world.services.rotateKeys(of: tenant, settle: 1.5)
                    try await Task.sleep(for: .milliseconds(200))
                    done.withLockedValue { $0 = true }
                    return result
                }
                var rotation: (Int, Int)?
                for try await result in group { if let result { rotation = result } }
                return rotation!
            }
            #expect(failures.withLockedValue { $0 }.isEmpty, "failed requests: \(failures.withLockedValue { $0 }.prefix(5))")
            #expect(rotation.version == 2)
            struct Versions: Decodable {
                var key_version: Int
                var n: Int
            }
            for table in Self.tables {
                let versions = try await world.services.database.sql.raw(
                    """
                    SELECT key_version, COUNT(*) AS n FROM \(unsafeRaw: table) WHERE tenant_id = \(bind: demo.tenantID) GROUP BY key_version
                    """
                ).all(decoding: Versions.self)
                #expect(versions.allSatisfy { $0.key_version == 2 }, "\(table): \(versions.map { "v\($0.key_version)×\($0.n)" })")
            }
            #expect(try await world.services.keyMaintenance.remainingRows(demo.tenantID) == 0)
            // Everything still reads, including the signed note and its addenda; the other practice was not touched.
            let notes = try await world.call(.get, "/api/v1/notes?patientId=\(demo.john.wire)&limit=100", as: .smith)
            #expect(notes.status == .ok && notes.items.count >= 21)
            #expect(try await world.call(.get, "/api/v1/notes/\(demo.johnSignedNote.wire)", as: .smith).status == .ok)
            struct MaxVersion: Decodable { var v: Int? }
            #expect(
                try await world.services.database.sql.raw("SELECT MAX(key_version) AS v FROM patients WHERE tenant_id = \(bind: TestWorld.other.tenantID)")
                    .first(decoding: MaxVersion.self)?.v == 1)
            let rotations = try await world.services.auditLog.list(
                tenantID: demo.tenantID, filter: AuditEventFilter(action: "keys.rotate"), page: PageRequest(),
                on: world.services.database.sql)
            #expect(rotations.items.count == 1)
            print(
                "key rotation (\(backend.testDescription)): \(count.withLockedValue { $0 }) requests during rotation, 0 failed; \(rotation.rows) rows re-encrypted to version \(rotation.version)"
            )
        }
    }

    /// Rows written before field encryption existed (plaintext, key_version 0, practice without keys) are sealed at start-up.
    @Test(arguments: TestBackend.all)
    func startUpSealsRowsWrittenBeforeEncryption(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let sql = world.services.database.sql
            let other = TestWorld.other
            // Recreate an old database: the other practice's patient Bob and his user in the clear, no keys.
            try await sql.raw(
                """
                UPDATE patients SET first_name = 'Legacy', last_name = 'Plainname', date_of_birth = '1970-01-02', email = 'legacy@old.test',
                    phone = '+1-555-0111', address = NULL, emergency_contact = NULL, discharge_reason = NULL, email_bidx = NULL, phone_bidx = NULL,
                    name_dob_bidx = NULL, key_version = 0
                WHERE tenant_id = \(bind: other.tenantID)
                """
            ).run()
            try await sql.raw(
                "UPDATE users SET email = 'user-' || id || '@old.test', display_name = 'Old Name', email_bidx = NULL, key_version = 0 WHERE tenant_id = \(bind: other.tenantID)"
            ).run()
            try await sql.raw("UPDATE appointments SET reason = NULL, cancellation_reason = NULL, key_version = 0 WHERE tenant_id = \(bind: other.tenantID)")
                .run()
            try await sql.raw(
                "UPDATE clinical_notes SET sections = '{\"narrative\":\"old\"}', void_reason = NULL, key_version = 0 WHERE tenant_id = \(bind: other.tenantID) AND status = 'draft'"
            ).run()
            try await sql.raw("DELETE FROM tenant_keys WHERE tenant_id = \(bind: other.tenantID)").run()
            world.services.vault.forgetCachedKeys()

            try await world.services.keyMaintenance.encryptLegacyTenants()

            struct Row: Decodable {
                var first_name: String
                var key_version: Int
                var name_dob_bidx: String?
            }
            let rows = try await sql.raw("SELECT first_name, key_version, name_dob_bidx FROM patients WHERE tenant_id = \(bind: other.tenantID)").all(
                decoding: Row.self)
            #expect(!rows.isEmpty && rows.allSatisfy { $0.first_name.hasPrefix("ehr1:") && $0.key_version == 1 && $0.name_dob_bidx != nil })
            let found = try await world.call(.get, "/api/v1/patients?lastName=plainname&dateOfBirth=1970-01-02", as: .admin, in: other)
            #expect(found.status == .ok && found.items.count == rows.count && found.items.first?["firstName"] as? String == "Legacy")
            #expect(try await world.call(.get, "/api/v1/notes/\(other.bobDraftNote.wire)", as: .johnson, in: other).status == .ok)
            #expect(try await world.services.keyMaintenance.remainingRows(other.tenantID) == 0)
        }
    }
}
