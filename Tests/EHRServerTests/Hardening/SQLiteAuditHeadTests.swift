import Crypto
import EHRDomain
import EHRPersistence
import Foundation
import Logging
import SQLKit
import Testing

@testable import EHRServer

/// SQLite's audit writer appends a flush as one statement sealed on the heads it remembers; the database accepts
/// events only as the next links of their chains (`SQLiteAuditHeadTriggers`). Remembered heads that went stale
/// (another process, a rolled-back write) must cost a retry, never a broken or forked chain.
@Suite("SQLite audit heads")
struct SQLiteAuditHeadTests {
    private static func drafts(_ tenant: UUID, prefix: String, count: Int) -> [AuditEventDraft] {
        (0..<count).map { i in
            AuditEventDraft(
                tenantID: tenant, actorID: "system:test", actorRole: "system", action: "test.event", resourceType: "test",
                outcome: .allowed, requestID: "\(prefix)-\(i)")
        }
    }

    private struct Head: Decodable { var seq: Int64, hash: String }

    @Test func theDatabaseAcceptsOnlyTheNextLinkAndMovesTheHead() async throws {
        try await withWorld(.sqlite) { world in
            let tenant = TestWorld.demo.tenantID
            #expect(try await world.call(.get, "/api/v1/appointments?limit=1", as: .admin).status == .ok)  // the practice's first events
            try await world.sealAudit()
            let sql = world.owner.sql
            let head = try #require(try await sql.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenant)").first(decoding: Head.self))
            func insert(seq: Int64, prev: String) async throws {
                try await sql.raw(
                    """
                    INSERT INTO audit_events (tenant_id, seq, occurred_ms, actor_id, actor_role, action, resource_type, outcome, request_id,
                        changed_fields, prev_hash, hash, mac)
                    VALUES (\(bind: tenant), \(bind: seq), 0, 'x', 'system', 'forged', 'test', 'allowed', 'r', '[]', \(bind: prev), 'h\(unsafeRaw: String(seq))', 'm')
                    """
                ).run()
            }
            await #expect(throws: (any Error).self) { try await insert(seq: head.seq + 1, prev: "not-the-head") }
            await #expect(throws: (any Error).self) { try await insert(seq: head.seq + 2, prev: head.hash) }
            try await insert(seq: head.seq + 1, prev: head.hash)
            let moved = try #require(try await sql.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenant)").first(decoding: Head.self))
            #expect(moved.seq == head.seq + 1 && moved.hash == "h\(head.seq + 1)")
        }
    }

    /// Two processes on one file, each appending flushes on its remembered heads and writes in transactions, at once.
    @Test func twoWritersOnOneFileKeepOneIntactChainWithEveryEventOnce() async throws {
        try await withWorld(.sqlite) { world in
            let second = try EHRDatabase(world.services.configuration.database, logger: Logger(label: "ehr.test.second"), rowLevelSecurity: true)
            let key = SymmetricKey(data: Data(base64Encoded: world.services.configuration.auditKey)!)
            let instances = [(world.services.database, world.services.auditLog), (second, AuditLog(dialect: .sqlite, key: key))]
            let tenants = [TestWorld.demo.tenantID, TestWorld.other.tenantID]
            let before = try await world.storedEvents().count
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<6 {
                    let (database, log) = instances[lane % 2]
                    group.addTask {
                        for round in 0..<8 {
                            let tenant = tenants[(lane + round) % 2]
                            try await log.appendAlone(Self.drafts(tenant, prefix: "f\(lane).\(round)", count: 1 + round % 3), in: database)
                            if round % 3 == 0 {
                                try await DatabaseScope.tenant(tenant) {
                                    try await database.transaction { db in
                                        try await log.append(Self.drafts(tenant, prefix: "w\(lane).\(round)", count: 2), on: db)
                                    }
                                }
                            }
                            if round == 5 {
                                // A write whose transaction rolls back after its event went in: the event goes with it.
                                _ = try? await DatabaseScope.tenant(tenant) {
                                    try await database.transaction { db in
                                        try await log.append(Self.drafts(tenant, prefix: "rolled\(lane)", count: 1), on: db)
                                        throw CancellationError()
                                    }
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            await second.shutdown()
            let events = try await world.storedEvents()
            let flushed = (0..<6).reduce(0) { sum, _ in sum + (0..<8).reduce(0) { $0 + 1 + $1 % 3 } }
            let written = 6 * 3 * 2
            #expect(events.count == before + flushed + written)
            let requestIDs = events.map(\.request_id).filter { $0.hasPrefix("f") || $0.hasPrefix("w") }
            #expect(Set(requestIDs).count == requestIDs.count, "each event exactly once")
            #expect(!events.contains { $0.request_id.hasPrefix("rolled") })
            for tenant in tenants {
                let report = try await world.services.auditLog.verify(tenantID: tenant, on: world.owner.sql)
                #expect(report.isIntact, "\(report)")
                let head = try #require(
                    try await world.owner.sql.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenant)").first(decoding: Head.self))
                #expect(head.seq == Int64(report.eventCount))
            }
            // The service's own writer still appends after the other process moved every head.
            let listed = try await world.call(.get, "/api/v1/appointments?limit=1", as: .admin)
            #expect(listed.status == .ok)
            #expect(try await world.storedEvents().count == events.count + 1)
        }
    }
}
