import EHRDomain
import EHRPersistence
import EHRSecurity
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EHRServer

/// Emergency access to notes, the admin audit API, patients' access logs and chain verification over HTTP.
@Suite("Break-glass and audit API", .serialized)
struct BreakGlassAndAuditAPITests {
    @Test(arguments: TestBackend.all)
    func breakGlassGrantsTimedAuditedAccess(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            let note = "/api/v1/notes/\(demo.johnSignedNote.wire)"
            // Dr. Johnson is not John's therapist: no access, and the admin sees metadata only.
            #expect(try await world.call(.get, note, as: .johnson).status == .notFound)
            #expect(try await world.call(.get, note, as: .admin).json["sections"] == nil)

            let short = try await world.call(.post, "\(note)/break-glass", as: .johnson, json: ["reason": "urgent"])
            #expect(short.status == .unprocessableContent && short.problemFields == ["reason"])
            let missing = try await world.call(.post, "\(note)/break-glass", as: .johnson, json: [:])
            #expect(missing.status == .badRequest || missing.status == .unprocessableContent)
            #expect(missing.problemFields == ["reason"])

            let granted = try await world.call(.post, "\(note)/break-glass", as: .johnson, json: ["reason": "Covering for Dr. Smith in a crisis"])
            #expect(granted.status == .created, "\(granted.text)")
            let grantID = try #require(granted.json["id"] as? String)
            #expect((granted.json["note"] as? [String: Any])?["sections"] != nil)
            let expires = try #require((granted.json["expiresAt"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(expires.timeIntervalSinceNow - 3600) < 60)
            // Within the grant, the note reads in full; another therapist's grant does not help the admin.
            #expect(try await world.call(.get, note, as: .johnson).json["sections"] != nil)
            #expect(try await world.call(.get, note, as: .admin).json["sections"] == nil)
            #expect(try await world.call(.post, "\(note)/break-glass", as: .admin, json: ["reason": "Records request from the court"]).status == .created)
            #expect(try await world.call(.get, note, as: .admin).json["sections"] != nil)
            // Read access only: the grant does not let Johnson add an addendum.
            #expect(try await world.call(.post, "\(note)/addenda", as: .johnson, json: ["text": "x"]).status == .notFound)
            // Who may not break glass: the assigned therapist (already has access), clients, other practices; drafts stay private.
            #expect(try await world.call(.post, "\(note)/break-glass", as: .smith, json: ["reason": "Just curious about it"]).status == .conflict)
            #expect(try await world.call(.post, "\(note)/break-glass", as: .jane, json: ["reason": "I want to read this"]).status == .notFound)
            #expect(try await world.call(.post, "\(note)/break-glass", as: .admin, in: TestWorld.other, json: ["reason": "Other practice"]).status == .notFound)
            #expect(
                try await world.call(
                    .post, "/api/v1/notes/\(demo.bobDraftNote.wire)/break-glass", as: .smith,
                    json: ["reason": "Covering for Dr. Johnson"]
                ).status == .notFound)

            // The read under the grant names the grant in its audit event; the access log shows the reason.
            let reads = try await world.services.auditLog.list(
                tenantID: demo.tenantID, filter: AuditEventFilter(actorID: demo.johnson.wire, action: "note.read"), page: PageRequest(),
                on: world.services.database.sql)
            #expect(reads.items.map(\.draft.outcome) == [.allowed, .denied])
            #expect(reads.items.first?.draft.detail == "break-glass grant \(grantID)")
            let log = try await world.call(.get, "/api/v1/patients/\(demo.john.wire)/access-log", as: .admin)
            #expect(log.status == .ok)
            let entries = log.items
            #expect(
                entries.contains {
                    $0["action"] as? String == "note.break_glass" && $0["breakGlassReason"] as? String == "Covering for Dr. Smith in a crisis"
                        && $0["actorName"] as? String == "Dr. Michael Johnson"
                })
            #expect(entries.contains { $0["action"] as? String == "note.read" && $0["outcome"] as? String == "denied" })

            // An expired grant opens nothing.
            try await world.services.database.sql.raw("UPDATE break_glass_grants SET expires_at = \(bind: Date().addingTimeInterval(-1))").run()
            #expect(try await world.call(.get, note, as: .johnson).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func adminsSearchTheAuditLog(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            let started = Date().addingTimeInterval(-1)
            _ = try await world.call(.get, "/api/v1/patients/\(demo.john.wire)", as: .smith)
            _ = try await world.call(.get, "/api/v1/patients/\(demo.john.wire)", as: .johnson)
            _ = try await world.call(.get, "/api/v1/patients/\(demo.bob.wire)", as: .johnson)
            _ = try await world.call(.get, "/api/v1/appointments", as: .smith)
            _ = try await world.call(.patch, "/api/v1/patients/\(demo.john.wire)", as: .admin, json: ["phone": "+1-212-555-0177", "email": "j@demo.test"])
            func query(_ q: String) async throws -> [[String: Any]] {
                let reply = try await world.call(.get, "/api/v1/audit-events?\(q)", as: .admin)
                #expect(reply.status == .ok, "\(q): \(reply.text)")
                return reply.items
            }
            #expect(try await query("actorId=\(demo.johnson.wire)").count == 2)
            // John's three reads and changes, and Dr. Smith's appointment list, which returned John's appointment.
            #expect(try await query("patientId=\(demo.john.wire)").count == 4)
            let denied = try await query("outcome=denied")
            #expect(denied.count == 1 && denied[0]["patientId"] as? String == demo.john.wire && denied[0]["action"] as? String == "patient.read")
            #expect(try await query("action=appointment.list&resourceType=appointment").count == 1)
            let update = try await query("action=patient.update")
            #expect(update.first?["changedFields"] as? [String] == ["email", "phone"])
            #expect(!(try await world.call(.get, "/api/v1/audit-events", as: .admin).text.contains("555-0177")))
            #expect(try await query("from=\(ISO8601DateFormatter().string(from: started))").count >= 5)
            #expect(try await query("to=\(ISO8601DateFormatter().string(from: started))").isEmpty)
            // Newest first, page by page through the cursor, no event twice.
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let reply = try await world.call(.get, "/api/v1/audit-events?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: .admin)
                seen += reply.items.compactMap { $0["sequence"] as? Int }
                cursor = reply.json["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count >= 8 && seen == seen.sorted(by: >) && Set(seen).count == seen.count)
            // Only admins; bad filters are 400 naming the parameter.
            for account in [TestWorld.Account.smith, .john] {
                #expect(try await world.call(.get, "/api/v1/audit-events", as: account).status == .notFound)
                #expect(try await world.call(.get, "/api/v1/audit/verify", as: account).status == .notFound)
                #expect(try await world.call(.get, "/api/v1/patients/\(demo.john.wire)/access-log", as: account).status == .notFound)
            }
            #expect(try await world.call(.get, "/api/v1/audit-events?outcome=maybe", as: .admin).status == .badRequest)
            #expect(try await world.call(.get, "/api/v1/audit-events?actorId=x", as: .admin).problemFields == ["actorId"])
            // Another practice's admin sees none of it.
            let foreign = try await world.call(.get, "/api/v1/audit-events", as: .admin, in: TestWorld.other)
            #expect(!foreign.text.contains(demo.john.wire) && !foreign.text.contains(demo.johnson.wire))
        }
    }

    @Test(arguments: TestBackend.all)
    func verifyReportsIntactChainsAndTruncationAgainstACheckpoint(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            for _ in 0..<5 { _ = try await world.call(.get, "/api/v1/patients", as: .smith) }
            let checkpoint = try await world.services.auditLog.checkpoint(tenantID: demo.tenantID, in: world.services.database)
            let encoded = checkpoint.encoded().addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let intact = try await world.call(.get, "/api/v1/audit/verify?checkpoint=\(encoded)", as: .admin)
            #expect(intact.json["intact"] as? Bool == true && intact.json["checkpointUsed"] as? Bool == true)
            #expect(intact.json["eventCount"] as? Int == 5)
            #expect(try await world.call(.get, "/api/v1/audit/verify?checkpoint=garbage", as: .admin).problemFields == ["checkpoint"])
            let foreign = try await world.services.auditLog.checkpoint(tenantID: TestWorld.other.tenantID, on: world.services.database.sql)
            let foreignText = foreign.encoded().addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(try await world.call(.get, "/api/v1/audit/verify?checkpoint=\(foreignText)", as: .admin).problemFields == ["checkpoint"])

            // Someone with database rights removes the newest events and fixes up the head: only the checkpoint tells.
            // (Sealed first, so the verify reads above are not chained after the cut and shift the reason.)
            try await world.sealAudit()
            try await Self.withoutAppendOnlyTriggers(world) { db in
                try await db.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: demo.tenantID) AND seq > 3").run()
                try await db.raw(
                    "UPDATE audit_heads SET seq = 3, hash = (SELECT hash FROM audit_events WHERE tenant_id = \(bind: demo.tenantID) AND seq = 3) WHERE tenant_id = \(bind: demo.tenantID)"
                ).run()
            }
            let broken = try await world.call(.get, "/api/v1/audit/verify?checkpoint=\(encoded)", as: .admin)
            #expect(broken.json["intact"] as? Bool == false)
            #expect((broken.json["firstBreakReason"] as? String)?.hasPrefix("truncated") == true, "\(broken.text)")
        }
    }

    /// Runs `body` in a transaction with the audit table's append-only triggers dropped (and restored after commit),
    /// as an attacker with schema rights could.
    static func withoutAppendOnlyTriggers(_ world: TestWorld, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let postgres = world.services.database.dialect == .postgres
        try await world.owner.transaction { db in
            if postgres {
                // The running sealer locks a chain head and then inserts events; taking its lock first keeps this
                // transaction (events, then heads) from deadlocking with it.
                try await db.raw("SELECT pg_advisory_xact_lock(\(bind: AuditLog.sealerLock))").run()
                try await db.raw("ALTER TABLE audit_events DISABLE TRIGGER USER").run()
            } else {
                try await db.raw("DROP TRIGGER audit_events_no_update").run()
                try await db.raw("DROP TRIGGER audit_events_no_delete").run()
                // Forged events need not extend the chain (the writer falls back to reading the heads).
                try await db.raw("DROP TRIGGER audit_events_extend_head").run()
            }
            try await body(db)
            if postgres { try await db.raw("ALTER TABLE audit_events ENABLE TRIGGER USER").run() }
        }
    }
}
