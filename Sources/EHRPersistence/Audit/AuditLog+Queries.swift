import EHRDomain
import EHRSecurity
import Foundation
import SQLKit

/// The result of walking one tenant's chain.
public struct AuditChainReport: Sendable {
    public let tenantID: UUID
    /// Events in the table for the tenant.
    public let eventCount: Int
    /// Events verified sound before the first break (all of them when intact).
    public let verifiedCount: Int
    /// Hash of the last sound event.
    public let headHash: Data
    /// The first break, or nil.
    public let firstBreak: AuditBreak?
    /// The chain head the service recorded disagrees with the events (rows removed from the end, or added).
    public let headMismatch: Bool
    public var isIntact: Bool { firstBreak == nil && !headMismatch }
}

extension AuditLog {
    /// One page of events, newest first. `PageCursor.key` carries the sequence number as milliseconds.
    public func list(tenantID: UUID, filter: AuditEventFilter, page: PageRequest, on sql: any SQLDatabase) async throws -> Page<AuditEvent> {
        var query: SQLQueryString = "SELECT * FROM audit_events WHERE tenant_id = \(bind: tenantID)"
        if let actor = filter.actorID { query += " AND actor_id = \(bind: actor)" }
        if let patient = filter.patientID { query += " AND patient_id = \(bind: patient.uuidString.lowercased())" }
        if let type = filter.resourceType { query += " AND resource_type = \(bind: type)" }
        if let action = filter.action { query += " AND action = \(bind: action)" }
        if let outcome = filter.outcome { query += " AND outcome = \(bind: outcome.rawValue)" }
        if let from = filter.from { query += " AND occurred_ms >= \(bind: Self.millis(from))" }
        if let to = filter.to { query += " AND occurred_ms < \(bind: Self.millis(to))" }
        if let after = page.after { query += " AND seq < \(bind: Self.millis(after.key))" }
        query += " ORDER BY seq DESC LIMIT \(literal: page.limit + 1)"
        let rows = try await sql.raw(query).all(decoding: AuditRow.self)
        let items = rows.prefix(page.limit).map(\.event)
        let next = rows.count > page.limit ? items.last.map { PageCursor(key: Date(timeIntervalSince1970: Double($0.sequence) / 1000), id: tenantID) } : nil
        return Page(items: Array(items), next: next)
    }

    /// Every event of the tenant's chain in sequence order, as chain records.
    public func records(tenantID: UUID, on sql: any SQLDatabase) async throws -> [AuditRecord] {
        try await sql.raw("SELECT * FROM audit_events WHERE tenant_id = \(bind: tenantID) ORDER BY seq")
            .all(decoding: AuditRow.self).map(\.record)
    }

    /// Walks the tenant's chain with the audit key, against `checkpoint` when given (detects truncation
    /// behind it), and against the head the service keeps in `audit_heads`.
    public func verify(tenantID: UUID, checkpoint: AuditCheckpoint? = nil, on sql: any SQLDatabase) async throws -> AuditChainReport {
        struct HeadRow: Decodable {
            var seq: Int64
            var hash: String
        }
        let records = try await records(tenantID: tenantID, on: sql)
        let result = AuditChain.verify(records: records, key: key, checkpoint: checkpoint, tenantID: tenantID.uuidString.lowercased())
        let head = try await sql.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenantID)").first(decoding: HeadRow.self)
        let headMismatch: Bool
        if let head {
            headMismatch = head.seq != Int64(records.count) || (records.last.map { $0.hash.hexString != head.hash } ?? (head.seq != 0))
        } else {
            headMismatch = !records.isEmpty
        }
        return AuditChainReport(
            tenantID: tenantID, eventCount: records.count, verifiedCount: result.verifiedCount,
            headHash: result.headHash, firstBreak: result.firstBreak, headMismatch: headMismatch)
    }

    /// A signed statement of the chain's current head, to be kept outside the database.
    /// - Throws: ``AuditBreak`` when the chain does not verify (a checkpoint must never vouch for a broken chain).
    public func checkpoint(tenantID: UUID, on sql: any SQLDatabase) async throws -> AuditCheckpoint {
        let records = try await records(tenantID: tenantID, on: sql)
        let result = AuditChain.verify(records: records, key: key, tenantID: tenantID.uuidString.lowercased())
        if let broken = result.firstBreak { throw broken }
        return AuditCheckpoint.make(
            tenantID: tenantID.uuidString.lowercased(), records: records,
            timeMillis: Self.millis(Date()), key: key)
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
