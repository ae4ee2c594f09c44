import EHRDomain
import EHRPersistence
import EHRSecurity
import Foundation
import Testing

@testable import EHRServer

/// Verification reads the chain page by page: breaks on any page, at page boundaries and in the last page are
/// found at the right event, and checkpoints still vouch only for sound chains.
@Suite("Audit verification in pages", .serialized) struct AuditVerifyPagingTests {
    @Test(arguments: TestBackend.all)
    func breaksAreFoundOnEveryPage(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let log = world.services.auditLog
            let sql = world.owner.sql
            let drafts = (0..<(AuditLog.verifyPageSize * 2 + 7)).map { i in
                AuditEventDraft(
                    tenantID: d.tenantID, actorID: "system:test", actorRole: "system", action: "test.event", resourceType: "test",
                    outcome: .allowed, requestID: "r\(i)", patientIDs: i % 3 == 0 ? [d.john, d.jane] : [])
            }
            try await world.services.database.transaction { db in try await log.append(drafts, on: db) }
            try await world.sealAudit()
            let intact = try await log.verify(tenantID: d.tenantID, on: sql)
            #expect(intact.isIntact && intact.eventCount == drafts.count && intact.verifiedCount == drafts.count)
            let checkpoint = try await log.checkpoint(tenantID: d.tenantID, on: sql)
            #expect(checkpoint.count == UInt64(drafts.count))

            if case .postgres = backend {
                try await sql.raw("ALTER TABLE audit_events DISABLE TRIGGER USER").run()
            } else {
                try await sql.raw("DROP TRIGGER audit_events_no_update").run()
            }
            for sequence in [Int64(AuditLog.verifyPageSize + 1), Int64(AuditLog.verifyPageSize), 3, Int64(drafts.count)] {
                try await sql.raw("UPDATE audit_events SET action = 'x' WHERE tenant_id = \(bind: d.tenantID) AND seq = \(bind: sequence)").run()
                let report = try await log.verify(tenantID: d.tenantID, checkpoint: checkpoint, on: sql)
                #expect(report.firstBreak?.sequence == UInt64(sequence), "tampered \(sequence): \(String(describing: report.firstBreak))")
                #expect(report.eventCount == drafts.count && report.verifiedCount == Int(sequence) - 1)
                await #expect(throws: AuditBreak.self) { try await log.checkpoint(tenantID: d.tenantID, on: sql) }
                try await sql.raw("UPDATE audit_events SET action = 'test.event' WHERE tenant_id = \(bind: d.tenantID) AND seq = \(bind: sequence)").run()
            }
            #expect(try await log.verify(tenantID: d.tenantID, checkpoint: checkpoint, on: sql).isIntact)
        }
    }
}
