import Crypto
import EHRDomain
import EHRPersistence
import Foundation
import Logging
import SQLKit
import Testing

@testable import EHRServer

/// PostgreSQL records audit events in an inbox before answering and seals them onto the chain in batches
/// (`PostgresAuditInbox`). The chain must come out the same as if every event had been sealed at once: each
/// event exactly once, intact, whichever instance recorded or sealed it, and nothing forged in the inbox
/// passing as a real event.
@Suite("Audit inbox (PostgreSQL)")
struct AuditInboxTests {
    static var postgres: [TestBackend] { TestBackend.all.filter { $0 != .sqlite } }

    private struct Count: Decodable { var n: Int }

    private static func inboxCount(_ world: TestWorld) async throws -> Int {
        try await world.owner.sql.raw("SELECT count(*)::int AS n FROM audit_inbox").first(decoding: Count.self)?.n ?? -1
    }

    /// A second `ehr serve` on the same database: its own pools and its own audit log with the same key.
    private static func secondInstance(_ world: TestWorld) throws -> (EHRDatabase, AuditLog) {
        let database = try EHRDatabase(world.services.configuration.database, logger: Logger(label: "ehr.test.second"), rowLevelSecurity: true)
        let key = SymmetricKey(data: Data(base64Encoded: world.services.configuration.auditKey)!)
        return (database, AuditLog(dialect: .postgres, key: key))
    }

    private static func drafts(_ tenant: UUID, prefix: String, count: Int, patients: [UUID] = []) -> [AuditEventDraft] {
        (0..<count).map { i in
            AuditEventDraft(
                tenantID: tenant, actorID: "system:test", actorRole: "system", action: "test.event", resourceType: "test",
                outcome: .allowed, requestID: "\(prefix)-\(i)", patientIDs: i % 2 == 0 ? patients : [])
        }
    }

    @Test("two instances recording and sealing at once leave one intact chain per practice with every event exactly once", arguments: postgres)
    func twoInstancesSealOneChain(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let (secondDatabase, secondLog) = try Self.secondInstance(world)
            defer { Task { await secondDatabase.shutdown() } }
            let instances = [(world.services.database, world.services.auditLog), (secondDatabase, secondLog)]
            let demo = TestWorld.demo
            let other = TestWorld.other
            let before = try await world.storedEvents()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    let (database, log) = instances[lane % 2]
                    group.addTask {
                        for round in 0..<6 {
                            let tenant = (lane + round) % 3 == 0 ? other.tenantID : demo.tenantID
                            // A write's event (in the write's transaction) and a read's (a statement of its own).
                            try await DatabaseScope.tenant(tenant) {
                                try await database.transaction { db in
                                    try await log.append(Self.drafts(tenant, prefix: "w\(lane).\(round)", count: 3, patients: [demo.john]), on: db)
                                }
                                let reads = Self.drafts(tenant, prefix: "r\(lane).\(round)", count: 4, patients: [demo.jane, demo.bob])
                                try await log.enqueue(reads, in: database)
                            }
                            try await log.sealPending(in: database)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let after = try await world.storedEvents()
            let added = after.filter { event in !before.contains { $0.tenant_id == event.tenant_id && $0.seq == event.seq } }
            let ids = added.map(\.request_id)
            #expect(ids.count == 8 * 6 * 7 && Set(ids).count == ids.count, "\(ids.count) events, \(Set(ids).count) distinct")
            #expect(try await Self.inboxCount(world) == 0)
            for tenant in [demo.tenantID, other.tenantID] {
                let report = try await world.services.auditLog.verify(tenantID: tenant, in: world.services.database)
                #expect(report.isIntact, "\(tenant): \(report)")
                let sequences = after.filter { $0.tenant_id == tenant }.map(\.seq)
                #expect(sequences == Array(1...Int64(sequences.count)))
            }
            print("audit inbox: 2 instances, 8 lanes, \(ids.count) events sealed once each; chains intact")
        }
    }

    @Test("events another process left in the inbox are sealed by the running server without any reader", arguments: postgres)
    func leftoversAreSealedByTheRunningServer(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let (secondDatabase, secondLog) = try Self.secondInstance(world)
            let demo = TestWorld.demo.tenantID
            // The other process records and dies before sealing.
            try await DatabaseScope.tenant(demo) { try await secondLog.enqueue(Self.drafts(demo, prefix: "left", count: 25), in: secondDatabase) }
            await secondDatabase.shutdown()
            let deadline = Date().addingTimeInterval(10)
            var waiting = try await Self.inboxCount(world)
            while waiting > 0, Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
                waiting = try await Self.inboxCount(world)
            }
            #expect(waiting == 0, "still in the inbox: \(waiting)")
            let sealed = try await world.owner.sql.raw("SELECT count(*)::int AS n FROM audit_events WHERE request_id LIKE 'left-%'").first(decoding: Count.self)
            #expect(sealed?.n == 25)
        }
    }

    @Test("a row forged in the inbox is chained as a tampering event, and the inbox refuses edits", arguments: postgres)
    func forgedRowsAreNotChainedAsWritten(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo.tenantID
            let sql = world.owner.sql
            try await sql.raw(
                """
                INSERT INTO audit_inbox (tenant_id, occurred_ms, actor_id, actor_role, action, resource_type, outcome, request_id,
                    changed_fields, mac)
                VALUES (\(bind: demo), 0, 'someone', 'admin', 'patient.read', 'patient', 'allowed', 'forged-1', '[]', \(bind: String(repeating: "ab", count: 32)))
                """
            ).run()
            let events = try await world.storedEvents()
            let tampered = events.filter { $0.action == "audit.inbox_tampered" }
            let forged = events.filter { $0.request_id == "forged-1" }
            #expect(forged.isEmpty)
            #expect(tampered.count == 1 && tampered.first?.tenant_id == demo && tampered.first?.outcome == "error", "\(events)")
            #expect(try await world.services.auditLog.verify(tenantID: demo, in: world.services.database).isIntact)

            // Rows cannot be edited while they wait, by anyone (here the owner, in a transaction that then rolls back).
            let refused = try await world.owner.transaction { db in
                try await db.raw(
                    """
                    INSERT INTO audit_inbox (tenant_id, occurred_ms, actor_id, actor_role, action, resource_type, outcome, request_id,
                        changed_fields, mac)
                    VALUES (\(bind: demo), 0, 'someone', 'admin', 'patient.read', 'patient', 'allowed', 'held', '[]', '00')
                    """
                ).run()
                do {
                    try await db.raw("UPDATE audit_inbox SET actor_id = 'x' WHERE request_id = 'held'").run()
                    return false
                } catch {
                    return true
                }
            }
            #expect(refused)
            struct Granted: Decodable { var update: Bool, truncate: Bool }
            let granted = try await sql.raw(
                """
                SELECT has_table_privilege('ehr_service', 'audit_inbox', 'UPDATE') AS update,
                    has_table_privilege('ehr_service', 'audit_inbox', 'TRUNCATE') AS truncate
                """
            ).first(decoding: Granted.self)
            #expect(granted?.update == false && granted?.truncate == false)
        }
    }

    /// The inbox has no foreign key to `tenants` (it locked the practice's row on every audited request): the
    /// sealer takes only rows of practices that exist, so a row naming none is never chained, stays, and is counted.
    @Test("an inbox row naming no practice is never chained and stays, counted, while the rest is sealed", arguments: postgres)
    func rowsOfNoPracticeAreNotChained(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo.tenantID
            let nobody = UUID()
            let database = world.services.database
            let log = world.services.auditLog
            try await world.owner.sql.raw(
                """
                INSERT INTO audit_inbox (tenant_id, occurred_ms, actor_id, actor_role, action, resource_type, outcome, request_id,
                    changed_fields, mac)
                VALUES (\(bind: nobody), 0, 'someone', 'admin', 'patient.read', 'patient', 'allowed', 'no-practice', '[]', '00')
                """
            ).run()
            try await DatabaseScope.tenant(demo) { try await log.enqueue(Self.drafts(demo, prefix: "beside", count: 3), in: database) }
            try await log.sealPending(in: database)

            let events = try await world.storedEvents()
            #expect(events.filter { $0.request_id.hasPrefix("beside-") }.count == 3)
            #expect(!events.contains { $0.tenant_id == nobody || $0.request_id == "no-practice" })
            #expect(try await Self.inboxCount(world) == 1)
            #expect(try await log.strandedInboxRows(in: database) == 1)
            struct Heads: Decodable { var n: Int }
            let heads = try await world.owner.sql.raw("SELECT count(*)::int AS n FROM audit_heads WHERE tenant_id = \(bind: nobody)")
                .first(decoding: Heads.self)
            #expect(heads?.n == 0)
            #expect(try await log.verify(tenantID: demo, in: database).isIntact)
            try await world.owner.sql.raw("DELETE FROM audit_inbox WHERE tenant_id = \(bind: nobody)").run()
            #expect(try await log.strandedInboxRows(in: database) == 0)
        }
    }

    @Test("a practice sees no other practice's inbox rows and cannot write into theirs", arguments: postgres)
    func inboxRowsAreIsolated(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo.tenantID
            let other = TestWorld.other.tenantID
            let database = world.services.database
            let log = world.services.auditLog
            // Uncommitted, so no sealer takes the rows while the two practices look.
            let (own, foreign) = try await DatabaseScope.tenant(demo) {
                try await database.transaction { db in
                    try await log.append(Self.drafts(demo, prefix: "iso", count: 3), on: db)
                    let own = try await db.raw("SELECT count(*)::int AS n FROM audit_inbox").first(decoding: Count.self)?.n
                    try await db.raw("SELECT set_config('app.tenant_id', \(bind: other.lowercasedString), true)").run()
                    let foreign = try await db.raw("SELECT count(*)::int AS n FROM audit_inbox").first(decoding: Count.self)?.n
                    return (own, foreign)
                }
            }
            #expect(own == 3 && foreign == 0, "own \(String(describing: own)), seen by the other practice \(String(describing: foreign))")
            await #expect(throws: (any Error).self) {
                try await DatabaseScope.tenant(other) {
                    try await database.transaction { db in try await log.append(Self.drafts(demo, prefix: "cross", count: 1), on: db) }
                }
            }
        }
    }
}
