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
    /// The access log's index of listed patients disagrees with the chained events (index rows removed or added).
    public let patientIndexMismatch: Bool
    public var isIntact: Bool { firstBreak == nil && !headMismatch && !patientIndexMismatch }
}

extension AuditLog {
    /// ``list(tenantID:filter:page:on:)`` after sealing the inbox, so the page holds every event recorded so far.
    public func list(tenantID: UUID, filter: AuditEventFilter, page: PageRequest, in database: EHRDatabase) async throws -> Page<AuditEvent> {
        try await sealPending(in: database)
        return try await list(tenantID: tenantID, filter: filter, page: page, on: database.sql)
    }

    /// ``verify(tenantID:checkpoint:on:)`` after sealing the inbox.
    public func verify(tenantID: UUID, checkpoint: AuditCheckpoint? = nil, in database: EHRDatabase) async throws -> AuditChainReport {
        try await sealPending(in: database)
        return try await verify(tenantID: tenantID, checkpoint: checkpoint, on: database.sql)
    }

    /// ``checkpoint(tenantID:on:)`` after sealing the inbox.
    public func checkpoint(tenantID: UUID, in database: EHRDatabase) async throws -> AuditCheckpoint {
        try await sealPending(in: database)
        return try await checkpoint(tenantID: tenantID, on: database.sql)
    }

    /// One page of events, newest first. `PageCursor.key` carries the sequence number as milliseconds.
    public func list(tenantID: UUID, filter: AuditEventFilter, page: PageRequest, on sql: any SQLDatabase) async throws -> Page<AuditEvent> {
        var query: SQLQueryString = "SELECT * FROM audit_events WHERE tenant_id = \(bind: tenantID)"
        if let actor = filter.actorID { query += " AND actor_id = \(bind: actor)" }
        if let patient = filter.patientID {
            // The patient's own record, or a list or search whose answer held the patient's records.
            let id = patient.lowercasedString
            switch dialect {
            case .postgres:
                // `?` is jsonb's "has this string element", which the GIN index of PostgresAuditListIndex answers.
                query += " AND (patient_id = \(bind: id) OR patient_ids::jsonb ? \(bind: id))"
            case .sqlite:
                query += """
                     AND (patient_id = \(bind: id) OR seq IN (SELECT seq FROM audit_event_patients WHERE tenant_id = \(bind: tenantID) AND patient_id = \(bind: id)))
                    """
            }
        }
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

    /// Events read per page while walking a chain: memory stays bounded whatever the chain's length.
    public static let verifyPageSize = 2000

    /// Walks the tenant's chain page by page with the audit key, against `checkpoint` when given (detects
    /// truncation behind it), against the head the service keeps in `audit_heads`, and (SQLite) checks that the
    /// access log's index (`audit_event_patients`) holds exactly the patients each event's chained `patient_ids`
    /// names. PostgreSQL's index is built by PostgreSQL from the chained column itself (``PostgresAuditListIndex``).
    public func verify(tenantID: UUID, checkpoint: AuditCheckpoint? = nil, on sql: any SQLDatabase) async throws -> AuditChainReport {
        struct HeadRow: Decodable {
            var seq: Int64
            var hash: String
        }
        struct CountRow: Decodable { var count: Int64 }
        var verifier = AuditChainVerifier(key: key, tenantID: tenantID.lowercasedString, checkpoint: checkpoint)
        var after: Int64 = 0
        var seen = 0
        var lastHash: String?
        var indexMismatch = false
        // SQLite's index is written behind the chain: it is checked up to the mark it had reached (readers through
        // an `EHRDatabase` index everything first; see AuditLog+PatientIndex).
        let indexedThrough = dialect == .sqlite ? try await patientsIndexedThrough(tenantID: tenantID, on: sql) : 0
        pages: while verifier.firstBreak == nil {
            let rows = try await sql.raw(
                "SELECT * FROM audit_events WHERE tenant_id = \(bind: tenantID) AND seq > \(bind: after) ORDER BY seq LIMIT \(literal: Self.verifyPageSize)"
            ).all(decoding: AuditRow.self)
            guard let last = rows.last else { break }
            if !indexMismatch, dialect == .sqlite {
                let covered = rows.filter { $0.seq <= indexedThrough }
                indexMismatch = try await !patientIndexMatches(covered, tenantID: tenantID, on: sql)
            }
            for row in rows {
                seen += 1
                lastHash = row.hash
                if !verifier.feed(row.record) { break pages }
            }
            after = last.seq
        }
        let result = verifier.finish()
        var eventCount = seen
        if result.firstBreak != nil {
            eventCount = Int(
                try await sql.raw("SELECT COUNT(*) AS count FROM audit_events WHERE tenant_id = \(bind: tenantID)").first(decoding: CountRow.self)?.count ?? 0)
        }
        let head = try await sql.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: tenantID)").first(decoding: HeadRow.self)
        let headMismatch: Bool
        if let head {
            headMismatch = head.seq != Int64(eventCount) || (lastHash.map { result.firstBreak == nil && $0 != head.hash } ?? (head.seq != 0))
        } else {
            headMismatch = eventCount != 0
        }
        return AuditChainReport(
            tenantID: tenantID, eventCount: eventCount, verifiedCount: result.verifiedCount,
            headHash: result.headHash, firstBreak: result.firstBreak, headMismatch: headMismatch,
            patientIndexMismatch: indexMismatch)
    }

    /// How far SQLite's access-log index has been written for the practice (0 with no events).
    private func patientsIndexedThrough(tenantID: UUID, on sql: any SQLDatabase) async throws -> Int64 {
        struct MarkRow: Decodable { var patients_indexed_seq: Int64 }
        return try await sql.raw("SELECT patients_indexed_seq FROM audit_heads WHERE tenant_id = \(bind: tenantID)")
            .first(decoding: MarkRow.self)?.patients_indexed_seq ?? 0
    }

    /// Whether the access-log index rows of these events' sequence range are exactly the patients the events chain.
    private func patientIndexMatches(_ rows: [AuditRow], tenantID: UUID, on sql: any SQLDatabase) async throws -> Bool {
        struct IndexRow: Decodable {
            var seq: Int64
            var patient_id: String
        }
        guard let first = rows.first, let last = rows.last else { return true }
        let indexed = try await sql.raw(
            """
            SELECT seq, patient_id FROM audit_event_patients
            WHERE tenant_id = \(bind: tenantID) AND seq >= \(bind: first.seq) AND seq <= \(bind: last.seq)
            """
        ).all(decoding: IndexRow.self)
        let expected = Set(rows.flatMap { row in (row.patientIDs ?? []).map { "\(row.seq) \($0)" } })
        return Set(indexed.map { "\($0.seq) \($0.patient_id)" }) == expected && indexed.count == expected.count
    }

    /// A signed statement of the chain's current head, to be kept outside the database.
    /// - Throws: ``AuditBreak`` when the chain does not verify (a checkpoint must never vouch for a broken chain).
    public func checkpoint(tenantID: UUID, on sql: any SQLDatabase) async throws -> AuditCheckpoint {
        let report = try await verify(tenantID: tenantID, on: sql)
        if let broken = report.firstBreak { throw broken }
        return AuditCheckpoint.make(
            tenantID: tenantID.lowercasedString, count: UInt64(report.verifiedCount), headHash: report.headHash,
            timeMillis: Self.millis(Date()), key: key)
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
